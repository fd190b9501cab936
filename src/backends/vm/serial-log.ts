import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** How often the serial log is read while output flows, and once it has been quiet a while (ms). */
export const SERIAL_POLL_MS = { busy: 40, quiet: 250, quietAfter: 2000 } as const;

/**
 * Follows a growing file QEMU writes a serial console to: reads what was appended, splits it into
 * lines (`\r\n` and `\n` endings, `\r` stripped) and hands each complete line to `onLine`.
 */
export class SerialLogReader {
  private fd?: number;
  private offset = 0;
  private partial = '';
  private timer?: NodeJS.Timeout;
  private lastData = 0;
  private stopped = false;
  private readonly buf = Buffer.alloc(64 * 1024);
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    /** File the serial port writes to. */
    readonly path: string,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Starts polling. */
  start(): void {
    this.lastData = Date.now();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const quiet = Date.now() - this.lastData > SERIAL_POLL_MS.quietAfter;
    this.timer = setTimeout(() => {
      this.poll();
      this.schedule();
    }, quiet ? SERIAL_POLL_MS.quiet : SERIAL_POLL_MS.busy);
  }

  /** Reads whatever was appended since the last call and emits the complete lines. */
  poll(): void {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r');
      } catch {
        return;
      }
    }
    let got = false;
    try {
      if (fstatSync(this.fd).size < this.offset) this.offset = 0;
      for (;;) {
        const n = readSync(this.fd, this.buf, 0, this.buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        got = true;
        this.feed(this.decoder.write(this.buf.subarray(0, n)));
      }
    } catch {
      return;
    }
    if (got) this.lastData = Date.now();
  }

  private feed(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.onLine(p.replace(/\r/g, ''));
  }

  /** Reads the rest, emits a last unterminated line if any, and stops polling. */
  stop(): void {
    if (this.stopped) return;
    this.poll();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.partial) {
      const last = this.partial.replace(/\r/g, '');
      this.partial = '';
      if (last) this.onLine(last);
    }
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = undefined;
    }
  }
}
