import { connect, type Socket } from 'node:net';

/** A QMP reply or event. */
type QmpMessage = { return?: unknown; error?: { class: string; desc: string }; event?: string; id?: number; QMP?: unknown };

/**
 * A minimal client of QEMU's machine protocol (QMP) over a unix socket: connects (retrying while
 * QEMU creates the socket), negotiates capabilities, and runs commands one at a time.
 */
export class QmpClient {
  private sock?: Socket;
  private buf = '';
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closedErr?: Error;

  constructor(
    /** Path of QEMU's `-qmp unix:…,server=on` socket. */
    readonly path: string,
  ) {}

  /** Connects within `timeoutMs` and negotiates capabilities. */
  async open(timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      try {
        this.sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(this.path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        break;
      } catch (err) {
        if (performance.now() > deadline || !alive()) throw new Error(`QMP socket ${this.path}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const greeting = new Promise<void>((resolve) => (this.onGreeting = resolve));
    this.sock.on('data', (b: Buffer) => this.onData(b.toString('utf8')));
    this.sock.on('error', (err) => this.fail(err));
    this.sock.on('close', () => this.fail(new Error('QMP connection closed')));
    await greeting;
    await this.execute('qmp_capabilities');
  }

  private onGreeting?: () => void;

  private onData(text: string): void {
    this.buf += text;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      let m: QmpMessage;
      try {
        m = JSON.parse(line) as QmpMessage;
      } catch {
        continue;
      }
      if (m.QMP) {
        this.onGreeting?.();
        continue;
      }
      if (m.id === undefined) continue;
      const w = this.waiting.get(m.id);
      if (!w) continue;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(`QMP: ${m.error.desc}`));
      else w.resolve(m.return);
    }
  }

  private fail(err: Error): void {
    this.closedErr ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  /** Runs one command and resolves with its `return` value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (!this.sock) return Promise.reject(new Error('QMP not connected'));
    if (this.closedErr) return Promise.reject(this.closedErr);
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock!.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  /** The VM's run state (`running`, `paused`, `inmigrate`, `postmigrate`, ...). */
  async status(): Promise<string> {
    return (await this.execute<{ status: string }>('query-status')).status;
  }

  /** Closes the connection. */
  close(): void {
    this.sock?.destroy();
    this.sock = undefined;
  }
}
