import { execFile } from 'node:child_process';
import { cpus, hostname, loadavg, release } from 'node:os';
import { promisify } from 'node:util';
import * as si from 'systeminformation';
import { repoRoot } from '../executor/paths.js';
import type { Environment, EnvironmentRef } from './types.js';

const run = promisify(execFile);

async function git(args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run('git', args, { cwd: repoRoot(), timeout: 5000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

async function quiet<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch {
    return undefined;
  }
}

/** Collects the machine's description for a run's results; never throws (unknowns become empty or null). */
export async function collectEnvironment(now = new Date()): Promise<Environment> {
  const [cpu, mem, os, sys, commit, status] = await Promise.all([
    quiet(si.cpu()), quiet(si.mem()), quiet(si.osInfo()), quiet(si.system()),
    git(['rev-parse', 'HEAD']), git(['status', '--porcelain', '--untracked-files=no']),
  ]);
  const model = cpus()[0]?.model?.trim() || [cpu?.manufacturer, cpu?.brand].filter(Boolean).join(' ') || 'unknown CPU';
  return {
    hostname: os?.hostname || hostname(),
    cpuModel: model,
    cores: cpu?.cores || cpus().length,
    physicalCores: cpu?.physicalCores || null,
    memoryBytes: mem?.total ?? 0,
    kernel: os?.kernel || release(),
    os: os ? `${os.distro} ${os.release}`.trim() : 'unknown',
    virtual: sys ? Boolean(sys.virtual) : null,
    node: process.version,
    gitCommit: commit,
    gitDirty: status === null ? null : status.length > 0,
    date: now.toISOString(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The short form of an environment that every result row carries. */
export function environmentRef(e: Environment): EnvironmentRef {
  return {
    hostname: e.hostname,
    cpu: `${e.cpuModel} ×${e.cores}`,
    kernel: e.kernel,
    node: e.node,
    commit: e.gitCommit ? e.gitCommit.slice(0, 12) + (e.gitDirty ? '+dirty' : '') : null,
  };
}
