import { spawn } from 'node:child_process';
import type Docker from 'dockerode';
import { isNotFound } from '../backends/docker/connection.js';
import { IMAGE_LABEL } from './layout.js';

/** The image id of `ref`, or undefined when the engine has no such image. */
export async function dockerImageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Imports a root tree as a one-layer image `repo:tag` (like `tar -C tree -c . | docker import`); resolves with its id. */
export async function importTree(docker: Docker, tree: string, repo: string, tag: string): Promise<string> {
  const tar = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', tree, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tarErr = '';
  tar.stderr.on('data', (b: Buffer) => {
    tarErr = (tarErr + b.toString()).slice(-2000);
  });
  const tarDone = new Promise<void>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar failed: ${tarErr.trim() || `exit ${code}`}`))));
  });
  const stream = await docker.importImage(tar.stdout, {
    repo, tag,
    changes: [`LABEL ${IMAGE_LABEL}=${tag}`, 'ENV PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin', 'ENV NO_COLOR=1', 'CMD ["/bin/sh"]'],
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(new Error(`docker import: ${String((err as { message?: string }).message ?? err)}`)) : resolve()));
  });
  await tarDone;
  const id = await dockerImageId(docker, `${repo}:${tag}`);
  if (!id) throw new Error(`docker import finished but ${repo}:${tag} is not there`);
  return id;
}
