import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { listProcesses, procArgs, procStat, type ProcInfo } from '../proc.js';
import { settlesWithin } from '../stop.js';
import { CONTAINER_BACKEND_ENV, CONTAINER_SESSION_ENV } from './container-spec.js';
import type { OwnedResource } from '../backend.js';
import { findExecutable } from './runtime.js';

const run = promisify(execFile);

/**
 * The host processes of one containerd task: its containerd-shim (whose working folder is the
 * task's OCI bundle) and, for runsc, its runsc-gofer
 * and runsc-sandbox. runsc leaves them all behind when a container fails to start (a wrong path,
 * a refused network), even after dockerd removed the container.
 */
export interface RuntimeTask {
  /** Container id (64 hex digits). */
  containerId: string;
  /** Every host process found for it: shim, gofer, sandbox. */
  pids: number[];
  /** containerd's socket (the shim's `-address`), when the shim is alive. */
  address?: string;
  /** containerd namespace (the shim's `-namespace`, `moby` for dockerd). */
  namespace?: string;
  /** The OCI bundle folder, when known. */
  bundle?: string;
  /** isolab session, from the bundle's config.json environment; undefined when not isolab's. */
  session?: string;
  /** isolab backend, likewise. */
  backend?: string;
}

const CONTAINER_ID = /^[0-9a-f]{64}$/;

function flagValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `-${name}` || a === `--${name}`) return args[i + 1];
    const m = new RegExp(`^--?${name}=(.*)$`).exec(a);
    if (m) return m[1];
  }
  return undefined;
}

/** The container a process belongs to, if it is a containerd shim or a runsc process (by its command line). */
export function taskOfProcess(p: Pick<ProcInfo, 'args'>): { containerId: string; kind: 'shim' | 'runsc'; address?: string; namespace?: string; bundle?: string } | undefined {
  const exe = basename(p.args[0] ?? '');
  if (exe.startsWith('containerd-shim')) {
    const id = flagValue(p.args, 'id');
    if (!id || !CONTAINER_ID.test(id)) return undefined;
    return { containerId: id, kind: 'shim', address: flagValue(p.args, 'address'), namespace: flagValue(p.args, 'namespace') };
  }
  if (exe === 'runsc-sandbox' || exe === 'runsc-gofer' || exe === 'runsc') {
    const bundle = flagValue(p.args, 'bundle');
    const last = p.args[p.args.length - 1] ?? '';
    const id = bundle && CONTAINER_ID.test(basename(bundle)) ? basename(bundle) : CONTAINER_ID.test(last) ? last : undefined;
    return id ? { containerId: id, kind: 'runsc', bundle } : undefined;
  }
  return undefined;
}

/** isolab's session and backend from an OCI bundle's config.json environment; {} when it is not isolab's or unreadable. */
export function bundleOwner(bundle: string): { session?: string; backend?: string } {
  try {
    const spec = JSON.parse(readFileSync(`${bundle}/config.json`, 'utf8')) as { process?: { env?: string[] } };
    const env = spec.process?.env ?? [];
    const get = (k: string): string | undefined => env.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1) || undefined;
    return { session: get(CONTAINER_SESSION_ENV), backend: get(CONTAINER_BACKEND_ENV) };
  } catch {
    return {};
  }
}

/**
 * Every containerd task on the host by its processes (`ps -eo pid,args`), with its owner read from
 * the bundle's config.json: only tasks whose bundle carries isolab's environment have a session.
 */
export function runtimeTasks(procs: readonly ProcInfo[] = listProcesses(), owner = bundleOwner): RuntimeTask[] {
  const byId = new Map<string, RuntimeTask>();
  for (const p of procs) {
    const t = taskOfProcess(p);
    if (!t) continue;
    let r = byId.get(t.containerId);
    if (!r) byId.set(t.containerId, (r = { containerId: t.containerId, pids: [] }));
    r.pids.push(p.pid);
    if (t.kind === 'shim') {
      r.address ??= t.address;
      r.namespace ??= t.namespace;
      if (!r.bundle) {
        try {
          const cwd = readlinkSync(`/proc/${p.pid}/cwd`);
          if (basename(cwd) === t.containerId) r.bundle = cwd;
        } catch {
          /* gone */
        }
      }
    } else r.bundle ??= t.bundle;
  }
  for (const r of byId.values()) {
    r.pids.sort((a, b) => a - b);
    if (r.bundle) Object.assign(r, owner(r.bundle));
  }
  return [...byId.values()];
}

/** The processes of one container's task, if any are left. */
export function runtimeTaskOf(containerId: string, procs?: readonly ProcInfo[]): RuntimeTask | undefined {
  return runtimeTasks(procs).find((t) => t.containerId === containerId);
}

/**
 * True while `pid` is still a live process of that container: not a zombie (an exited shim may
 * wait a while to be reaped by init) and, by its command line, still the same task (pids get reused).
 */
function aliveFor(containerId: string, pid: number): boolean {
  const st = procStat(pid);
  if (!st || st.state === 'Z') return false;
  const args = procArgs(pid);
  return args !== undefined && taskOfProcess({ args })?.containerId === containerId;
}

function kill(t: RuntimeTask, which: (args: string[]) => boolean): void {
  for (const pid of t.pids) {
    const args = procArgs(pid);
    if (!args || !aliveFor(t.containerId, pid) || !which(args)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

const isShim = (args: string[]): boolean => basename(args[0] ?? '').startsWith('containerd-shim');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves true once no process (shim, sandbox, gofer, or containerd's own `shim … delete`) carries the container id any more. */
async function allGone(containerId: string, ms: number): Promise<boolean> {
  const done = (async () => {
    while (runtimeTaskOf(containerId)) await sleep(100);
  })();
  return settlesWithin(done, ms);
}

/**
 * Ends a leftover task. runsc keeps a task that failed to start in the "created" state, which
 * containerd will not delete: so the task's runsc-sandbox and runsc-gofer are killed first (each
 * checked by the container id on its command line), then containerd deletes the stopped task
 * (`ctr tasks delete`, then `containers delete`), which ends the shim; a shim still there after
 * that is killed. Never touches a task it was not given; the reaper only gives tasks whose bundle
 * carries isolab's session.
 */
export async function endRuntimeTask(t: RuntimeTask): Promise<void> {
  kill(t, (args) => !isShim(args));
  const ctr = findExecutable('ctr');
  if (ctr && t.address) {
    const base = ['--address', t.address, '--namespace', t.namespace ?? 'moby'];
    const ctl = (args: string[]): Promise<boolean> => run(ctr, [...base, ...args], { timeout: 10_000 }).then(() => true, () => false);
    for (let i = 0; i < 15 && runtimeTaskOf(t.containerId); i++) {
      if (await ctl(['tasks', 'delete', t.containerId])) break;
      await sleep(200);
    }
    await ctl(['containers', 'delete', t.containerId]);
  }
  if (await allGone(t.containerId, 2000)) return;
  kill(runtimeTaskOf(t.containerId) ?? t, () => true);
  if (!(await allGone(t.containerId, 3000))) {
    const left = runtimeTaskOf(t.containerId)?.pids ?? [];
    throw new Error(`runtime processes of container ${t.containerId.slice(0, 12)} did not end: ${left.join(' ')}`);
  }
}

/** Reaper kind of a runtime task left without its container. */
export const RUNTIME_TASK = 'runtime-task';

/**
 * Runtime tasks (containerd-shim, runsc-sandbox, runsc-gofer) whose container dockerd no longer
 * has (`containerIds`: every container it lists), made by `backend` for a session other than
 * `self`: the bundle's config.json carries both in isolab's environment variables.
 */
export function listRuntimeLeftovers(backend: string, self: string, containerIds: ReadonlySet<string>, tasks = runtimeTasks()): OwnedResource[] {
  return tasks
    .filter((t) => t.session && t.session !== self && t.backend === backend && !containerIds.has(t.containerId))
    .map((t) => ({ backend, kind: RUNTIME_TASK, id: t.containerId, session: t.session }));
}

/** Ends a runtime task found by {@link listRuntimeLeftovers}, after checking again that its bundle names this backend. */
export async function removeRuntimeLeftover(r: OwnedResource): Promise<void> {
  if (r.kind !== RUNTIME_TASK) return;
  const t = runtimeTaskOf(r.id);
  if (t?.session && t.backend === r.backend) await endRuntimeTask(t);
}
