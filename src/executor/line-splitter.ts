/**
 * Splits an executor's output stream into lines, never holding more than `maxBytes` of one line:
 * a longer line is cut to `maxBytes + 1` bytes (so whoever reads it sees that it is too long) and
 * the rest of it, up to the next newline, is dropped as it arrives. A final line without a newline
 * is not a whole line and is dropped too. Lines are decoded as UTF-8, with a trailing `\r` removed.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overflow = false;

  constructor(
    /** Longest line kept whole (bytes, without the newline). */
    readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Feeds the next chunk of the stream. */
  push(chunk: Buffer): void {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) {
        this.append(chunk, from, chunk.length);
        return;
      }
      this.append(chunk, from, nl);
      this.flush();
      from = nl + 1;
    }
  }

  /** The stream ended: an unterminated last line is dropped. */
  end(): void {
    this.parts = [];
    this.size = 0;
    this.overflow = false;
  }

  private append(chunk: Buffer, from: number, to: number): void {
    if (this.overflow || to <= from) return;
    const room = this.maxBytes + 1 - this.size;
    if (to - from >= room) {
      this.parts.push(chunk.subarray(from, from + room));
      this.size += room;
      this.overflow = true;
      return;
    }
    this.parts.push(chunk.subarray(from, to));
    this.size += to - from;
  }

  private flush(): void {
    let line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    if (!this.overflow && line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    this.parts = [];
    this.size = 0;
    this.overflow = false;
    this.onLine(line.toString('utf8'));
  }
}

/** Feeds `stream` to a {@link LineSplitter}; resolves once the stream has ended or failed. */
export function splitLines(stream: NodeJS.ReadableStream, maxBytes: number, onLine: (line: string) => void): Promise<void> {
  const splitter = new LineSplitter(maxBytes, onLine);
  return new Promise((resolve) => {
    const done = (): void => {
      splitter.end();
      resolve();
    };
    stream.on('data', (chunk: Buffer | string) => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.once('end', done);
    stream.once('error', done);
    stream.once('close', done);
  });
}
