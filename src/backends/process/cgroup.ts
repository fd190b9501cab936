import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resources } from '../../master/resources.js';

/** A cgroup (v1: one folder per controller; v2: one folder) holding one task's processes. */
export interface TaskCgroup {
  /** `cgroup-v1` or `cgroup-v2`. */
  version: 'cgroup-v1' | 'cgroup-v2';
  /** Folders whose `cgroup.procs` a new process must join. */
  dirs: string[];
  /** Folder with memory usage files. */
  memoryDir: string;
  /** Folder with cpu usage files. */
  cpuDir: string;
  /** Folder with CPU time accounting (v1 cpuacct; v2: the task folder), when there is one. */
  cpuacctDir?: string;
  /** Folder with block I/O accounting (v1 blkio; v2: the task folder), when there is one. */
  ioDir?: string;
}

/** The counter folders of a task cgroup, for `readCgroupCounters`. */
export function counterDirs(cg: TaskCgroup): { version: 'cgroup-v1' | 'cgroup-v2'; memory?: string; cpu?: string; io?: string } {
  return { version: cg.version, memory: cg.memoryDir, cpu: cg.cpuacctDir, io: cg.ioDir };
}

/** Folder under each hierarchy that holds isolab's task groups. */
export const CGROUP_PARENT = 'isolab';

/** The cgroup layout the host offers, or why none can be used. */
export function detectCgroups(root = '/sys/fs/cgroup'): { version: 'cgroup-v1' | 'cgroup-v2' } | { unusable: string } {
  if (process.getuid?.() !== 0) return { unusable: 'not root' };
  if (existsSync(join(root, 'memory', 'memory.limit_in_bytes')) && existsSync(join(root, 'cpu', 'cpu.cfs_quota_us'))) {
    return { version: 'cgroup-v1' };
  }
  const ctl = join(root, 'cgroup.controllers');
  if (existsSync(ctl)) {
    const have = readFileSync(ctl, 'utf8').split(/\s+/);
    if (have.includes('memory') && have.includes('cpu')) return { version: 'cgroup-v2' };
    return { unusable: 'cgroup v2 without memory and cpu controllers' };
  }
  return { unusable: 'no cgroup v1 memory/cpu hierarchy and no cgroup v2' };
}

/** Creates a task cgroup with the task's limits; throws if the host refuses. */
export function createTaskCgroup(name: string, r: Resources, root = '/sys/fs/cgroup'): TaskCgroup {
  const kind = detectCgroups(root);
  if ('unusable' in kind) throw new Error(kind.unusable);
  const memBytes = String(Math.max(4, Math.round(r.mem)) * 1024 * 1024);
  const period = 100_000;
  const quota = Math.max(1000, Math.round(r.cpus * period));
  if (kind.version === 'cgroup-v1') {
    const mem = join(root, 'memory', CGROUP_PARENT, name);
    const cpu = join(root, 'cpu', CGROUP_PARENT, name);
    mkdirSync(mem, { recursive: true });
    mkdirSync(cpu, { recursive: true });
    writeFileSync(join(mem, 'memory.limit_in_bytes'), memBytes);
    if (existsSync(join(mem, 'memory.memsw.limit_in_bytes'))) {
      try {
        writeFileSync(join(mem, 'memory.memsw.limit_in_bytes'), memBytes);
      } catch {
        /* swap accounting may be off */
      }
    }
    writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(period));
    writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(quota));
    const dirs = [mem, cpu];
    const extra = (ctl: string, file: string): string | undefined => {
      if (!existsSync(join(root, ctl, file))) return undefined;
      const d = join(root, ctl, CGROUP_PARENT, name);
      try {
        mkdirSync(d, { recursive: true });
      } catch {
        return undefined;
      }
      if (!dirs.some((x) => realpathSync(x) === realpathSync(d))) dirs.push(d);
      return d;
    };
    const cpuacctDir = extra('cpuacct', 'cpuacct.usage');
    const ioDir = extra('blkio', 'blkio.throttle.io_service_bytes_recursive');
    return { version: kind.version, dirs, memoryDir: mem, cpuDir: cpu, cpuacctDir, ioDir };
  }
  const parent = join(root, CGROUP_PARENT);
  mkdirSync(parent, { recursive: true });
  for (const dir of [root, parent]) {
    try {
      writeFileSync(join(dir, 'cgroup.subtree_control'), '+memory +cpu');
    } catch {
      /* already on, or refused: checked below */
    }
    try {
      writeFileSync(join(dir, 'cgroup.subtree_control'), '+io');
    } catch {
      /* io accounting is optional */
    }
  }
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'memory.max'), memBytes);
  writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
  return { version: kind.version, dirs: [dir], memoryDir: dir, cpuDir: dir, cpuacctDir: dir, ioDir: dir };
}

/** Pids in the task's cgroup. */
export function cgroupPids(cg: TaskCgroup): number[] {
  try {
    return readFileSync(join(cg.dirs[0]!, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Memory usage of the cgroup (bytes), if readable. */
export function cgroupMemory(cg: TaskCgroup): number | undefined {
  const file = cg.version === 'cgroup-v1' ? 'memory.usage_in_bytes' : 'memory.current';
  try {
    return Number(readFileSync(join(cg.memoryDir, file), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** True when the kernel OOM-killed something in the cgroup. */
export function cgroupOomKilled(cg: TaskCgroup): boolean {
  try {
    if (cg.version === 'cgroup-v1') return /oom_kill\s+[1-9]/.test(readFileSync(join(cg.memoryDir, 'memory.oom_control'), 'utf8'));
    return /oom_kill\s+[1-9]/.test(readFileSync(join(cg.memoryDir, 'memory.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** Kills every process in the cgroup and removes its folders; retries briefly while processes exit. */
export async function removeTaskCgroup(cg: TaskCgroup): Promise<void> {
  for (let i = 0; i < 50; i++) {
    for (const pid of cgroupPids(cg)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    let left = 0;
    for (const d of cg.dirs) {
      if (!existsSync(d)) continue;
      try {
        rmdirSync(d);
      } catch {
        left++;
      }
    }
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`cgroup ${cg.dirs.join(', ')} still busy`);
}

/** Paths of isolab task cgroups on this host, any session. */
export function listTaskCgroups(root = '/sys/fs/cgroup'): string[] {
  const out: string[] = [];
  const parents = ['memory', 'cpu', 'cpuacct', 'blkio', ''].map((c) => join(root, c, CGROUP_PARENT));
  const seen = new Set<string>();
  for (const parent of parents) {
    if (existsSync(parent)) {
      const real = realpathSync(parent);
      if (seen.has(real)) continue;
      seen.add(real);
    }
    if (!existsSync(parent)) continue;
    for (const e of readdirSync(parent, { withFileTypes: true })) if (e.isDirectory() && e.name.startsWith('isolab-')) out.push(join(parent, e.name));
  }
  return out;
}
