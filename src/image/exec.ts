import { spawn, type SpawnOptions } from 'node:child_process';

/** What a finished helper command produced. */
export interface ExecResult {
  /** Standard output, as text. */
  stdout: string;
  /** Standard error, as text (trimmed to its last 8 KiB). */
  stderr: string;
}

/**
 * Runs a host tool (mkfs.ext4, cpio, ldd, modinfo) and resolves with its output; rejects with
 * the tool's last stderr line when it fails or cannot be started.
 */
export function execTool(cmd: string, args: string[], opts: SpawnOptions & { input?: Buffer } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => {
      err = (err + b.toString()).slice(-8192);
    });
    child.once('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.once('close', (code, sig) => {
      const stdout = Buffer.concat(out).toString();
      if (code === 0) return resolve({ stdout, stderr: err });
      const last = err.trim().split('\n').pop() || (sig ? `killed by ${sig}` : `exit ${code}`);
      reject(new Error(`${cmd} ${args[0] ?? ''} failed: ${last}`));
    });
    child.stdin!.end(opts.input);
  });
}
