import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** How often the serial log is read while output flows, and once it has been quiet a while (ms). */
export const SERIAL_POLL_MS = { busy: 40, quiet: 250, quietAfter: 2000 } as const;

/** Most bytes of serial output read from one guest (64 MiB, about 5 minutes of a serial port at full speed). */
export const SERIAL_LOG_MAX_BYTES = 64 * 2 ** 20;

/** Options of {@link SerialLogReader}. */
export interface SerialLogOptions {
  /** Stop reading after this many bytes (default SERIAL_LOG_MAX_BYTES). */
  maxBytes?: number;
  /** Called once when the guest wrote more than maxBytes; the caller should power it off. */
  onOverflow?: (bytes: number) => void;
}

/**
 * Follows a growing file QEMU writes a serial console to: reads what was appended, splits it into
 * lines (`\r\n` and `\n` endings, `\r` stripped) and hands each complete line to `onLine`.
 * When the file is rotated (libvirt's virtlogd renames it at its `max_size`, 2 MiB by default, and
 * starts a new one), the old file is read to its end before the new one. Output is capped: past
 * `maxBytes` nothing more is read and `onOverflow` fires, so a guest printing forever cannot make
 * isolab buffer or the host keep unbounded output (virtlogd keeps at most max_backups old files).
 */
export class SerialLogReader {
  private fd?: number;
  private offset = 0;
  private partial = '';
  private timer?: NodeJS.Timeout;
  private lastData = 0;
  private stopped = false;
  private total = 0;
  private overflowed = false;
  private readonly maxBytes: number;
  private readonly buf = Buffer.alloc(64 * 1024);
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    /** File the serial port writes to. */
    readonly path: string,
    private readonly onLine: (line: string) => void,
    private readonly opts: SerialLogOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? SERIAL_LOG_MAX_BYTES;
  }

  /** Bytes read so far (all rotated files together). */
  get bytesRead(): number {
    return this.total;
  }

  /** True once the output passed maxBytes. */
  get overflow(): boolean {
    return this.overflowed;
  }

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

  /** Reads whatever was appended since the last call (following a rotation) and emits the complete lines. */
  poll(): void {
    for (let hops = 0; hops < 8 && !this.overflowed; hops++) {
      if (this.fd === undefined) {
        try {
          this.fd = openSync(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
          this.offset = 0;
        } catch {
          return;
        }
      }
      if (!this.drain()) return;
      let rotated = false;
      try {
        rotated = statSync(this.path).ino !== fstatSync(this.fd).ino;
      } catch {
        /* renamed away, the new file not created yet */
      }
      if (!rotated) return;
      this.drain();
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /** Reads the open file to its end; false on a read error. */
  private drain(): boolean {
    let got = false;
    try {
      if (fstatSync(this.fd!).size < this.offset) this.offset = 0;
      for (;;) {
        const n = readSync(this.fd!, this.buf, 0, this.buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.total += n;
        got = true;
        if (this.total > this.maxBytes) {
          this.overflowed = true;
          this.opts.onOverflow?.(this.total);
          break;
        }
        this.feed(this.decoder.write(this.buf.subarray(0, n)));
      }
    } catch {
      return false;
    }
    if (got) this.lastData = Date.now();
    return !this.overflowed;
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
