import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCKER_DESCRIPTOR } from '../../src/backends/docker/descriptor.js';
import { GVISOR_DESCRIPTOR } from '../../src/backends/gvisor/descriptor.js';
import { PROCESS_DESCRIPTOR } from '../../src/backends/process/descriptor.js';
import { VM_DESCRIPTOR } from '../../src/backends/vm/descriptor.js';
import type { BackendDescriptor } from '../../src/backends/descriptor.js';
import { parseCall, subscribeJson } from '../../src/http/mesos-calls.js';
import { parseEvent, subscribedEvent, updateEvent } from '../../src/http/mesos-events.js';
import { wireState, stateOf, type Json } from '../../src/http/mesos-json.js';
import { launchOf, offerJson, offerOf, statusJson, statusOf, taskInfoJson, type LaunchContext } from '../../src/http/mesos-tasks.js';
import { TASK_STATES } from '../../src/master/task-state.js';
import type { TaskLaunch, TaskStatus } from '../../src/master/types.js';

const fixture = (name: string): Json => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8'));
const DESCRIPTORS: Record<string, BackendDescriptor> = { process: PROCESS_DESCRIPTOR, docker: DOCKER_DESCRIPTOR, gvisor: GVISOR_DESCRIPTOR, vm: VM_DESCRIPTOR };
const ctx = (backends: string[]): LaunchContext => ({ backends, describe: (n) => DESCRIPTORS[n] });
const task = (extra: Json = {}): Json => ({
  name: 't', task_id: { value: 't1' }, agent_id: { value: 'agent-1' },
  resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }, { name: 'mem', type: 'SCALAR', scalar: { value: 64 } }],
  command: { value: 'echo hi' }, ...extra,
});
const launched = (r: ReturnType<typeof launchOf>): TaskLaunch => {
  if (!r.ok) throw new Error(r.message);
  return r.launch;
};
const refused = (r: ReturnType<typeof launchOf>): string => {
  if (r.ok) throw new Error('launched');
  return r.message;
};

describe('calls, as npm mesos-framework 0.5.3 sends them (captured bodies, null for absent fields)', () => {
  it('SUBSCRIBE with framework_id null, id null, checkpoint null, capabilities null', () => {
    const c = parseCall(fixture('npm-subscribe.json'));
    expect(c).toEqual({ type: 'SUBSCRIBE', frameworkId: undefined, principal: undefined, info: { name: 'cap', failoverTimeoutSeconds: 604800 } });
  });

  it('ACCEPT with a LAUNCH of a command task in a DOCKER container, null filters', () => {
    const c = parseCall(fixture('npm-accept.json'));
    expect(c).toMatchObject({ type: 'ACCEPT', frameworkId: 'f1', offerIds: ['o1'], filters: undefined });
    if (c.type !== 'ACCEPT') throw new Error();
    const l = launched(launchOf(c.operations[0]!.taskInfos[0]!, ctx(['process', 'docker']), 'op'));
    expect(l).toEqual({
      taskId: 'cap.t-1.2b2dc336-c01e-49fa-bf53-882c8f8036d0', name: 't-1', agentId: 'a1', resources: { cpus: 0.1, mem: 64 }, backend: 'docker',
      payload: { taskId: 'cap.t-1.2b2dc336-c01e-49fa-bf53-882c8f8036d0', mode: 'command', command: { value: 'echo hi', environment: { HOST: '127.0.0.1' } } },
    });
  });

  it('every other call type, with the fields it needs', () => {
    const f = { framework_id: { value: 'f' } };
    const uuid = Buffer.alloc(16, 7).toString('base64');
    expect(parseCall({ ...f, type: 'DECLINE', decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: 0 } } })).toEqual({ type: 'DECLINE', frameworkId: 'f', offerIds: ['o'], filters: { refuseSeconds: 0 } });
    expect(parseCall({ ...f, type: 'KILL', kill: { task_id: { value: 't' }, agent_id: { value: 'a' } } })).toEqual({ type: 'KILL', frameworkId: 'f', taskId: 't', agentId: 'a' });
    expect(parseCall({ ...f, type: 'ACKNOWLEDGE', acknowledge: { task_id: { value: 't' }, agent_id: { value: 'a' }, uuid } })).toEqual({ type: 'ACKNOWLEDGE', frameworkId: 'f', taskId: 't', agentId: 'a', uuid });
    expect(parseCall({ ...f, type: 'RECONCILE', reconcile: { tasks: [] } })).toEqual({ type: 'RECONCILE', frameworkId: 'f', tasks: [] });
    expect(parseCall({ ...f, type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't' }, agent_id: { value: 'a' } }] } })).toEqual({ type: 'RECONCILE', frameworkId: 'f', tasks: [{ taskId: 't', agentId: 'a' }] });
    for (const type of ['REVIVE', 'SUPPRESS', 'TEARDOWN', 'REQUEST'] as const) expect(parseCall({ ...f, type })).toEqual({ type, frameworkId: 'f' });
    expect(parseCall({ ...f, type: 'MESSAGE', message: { agent_id: { value: 'a' }, executor_id: { value: 'e' }, data: 'aGk=' } })).toMatchObject({ type: 'MESSAGE', data: 'aGk=' });
  });

  it('malformed calls: one line saying what is wrong', () => {
    const bad: [unknown, RegExp][] = [
      [[], /must be a JSON object/],
      [{}, /call.type is required/],
      [{ type: 'FROB' }, /unknown call type "FROB" \(known: SUBSCRIBE, /],
      [{ type: 'UPDATE_FRAMEWORK', framework_id: { value: 'f' } }, /UPDATE_FRAMEWORK is not supported/],
      [{ type: 'REVIVE' }, /call.framework_id is required/],
      [{ type: 'REVIVE', framework_id: 'f' }, /call.framework_id must be \{"value": "..."\}/],
      [{ type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'u' } } }, /framework_info.name is required/],
      [{ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'n', failover_timeout: -1 } } }, /failover_timeout must be >= 0/],
      [{ type: 'SUBSCRIBE', framework_id: { value: 'a' }, subscribe: { framework_info: { name: 'n', id: { value: 'b' } } } }, /differ/],
      [{ type: 'ACCEPT', framework_id: { value: 'f' }, accept: { offer_ids: [{ value: 'o' }], operations: [{ type: 'RESERVE' }] } }, /RESERVE.*not supported/],
      [{ type: 'ACKNOWLEDGE', framework_id: { value: 'f' }, acknowledge: { task_id: { value: 't' }, agent_id: { value: 'a' }, uuid: 'abc' } }, /16 bytes/],
      [{ type: 'DECLINE', framework_id: { value: 'f' }, decline: { offer_ids: [{ value: 'o' }], filters: { refuse_seconds: 'soon' } } }, /refuse_seconds must be a finite number/],
    ];
    for (const [body, re] of bad) {
      expect(() => parseCall(body), JSON.stringify(body)).toThrow(re);
      try {
        parseCall(body);
      } catch (err) {
        expect((err as Error).message).not.toContain('\n');
      }
    }
  });

  it('offer_filters.min_allocatable_resources (Mesos >= 1.9) becomes the framework\'s min_allocatable', () => {
    const c = parseCall({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'n', offer_filters: { '*': { min_allocatable_resources: { quantities: [{ quantities: { cpus: { value: 1 } } }, { quantities: { mem: { value: 512 } } }] } } } } } });
    expect(c).toMatchObject({ info: { minAllocatableResources: [{ cpus: 1, mem: 0 }, { cpus: 0, mem: 512 }] } });
    expect(() => parseCall({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'n', offer_filters: { '*': { min_allocatable_resources: { quantities: [{ quantities: { gpus: { value: 1 } } }] } } } } } })).toThrow(/"gpus" is not offered/);
  });

  it('writes a SUBSCRIBE isolab can read back', () => {
    const info = { name: 'wc', id: 'f9', failoverTimeoutSeconds: 10, partitionAware: true, minAllocatableResources: [{ cpus: 0.5, mem: 64 }] };
    expect(parseCall(subscribeJson(info, 'root', 'p'))).toEqual({ type: 'SUBSCRIBE', frameworkId: 'f9', principal: 'p', info });
  });
});

describe('TaskInfo → launch: the backend from the label, else container.type by descriptor kind', () => {
  it('no container: MESOS, the agent\'s plain-process backend', () => {
    expect(launched(launchOf(task(), ctx(['docker', 'process']), 'op')).backend).toBe('process');
  });

  it('container.type DOCKER: the agent\'s container backend, whatever its name', () => {
    expect(launched(launchOf(task({ container: { type: 'DOCKER', docker: { image: 'isolab-guest' } } }), ctx(['process', 'gvisor', 'docker']), 'op')).backend).toBe('docker');
    expect(refused(launchOf(task({ container: { type: 'DOCKER' } }), ctx(['process', 'gvisor']), 'op'))).toMatch(/needs a container backend; the agent has process, gvisor/);
  });

  it('label isolab.backend names any known backend (the master checks the agent has it)', () => {
    const label = (v: string): Json => ({ labels: { labels: [{ key: 'isolab.backend', value: v }] } });
    expect(launched(launchOf(task(label('gvisor')), ctx(['process']), 'op')).backend).toBe('gvisor');
    expect(launched(launchOf(task({ ...label('vm'), container: { type: 'MESOS' } }), ctx(['vm']), 'op')).backend).toBe('vm');
    expect(refused(launchOf(task(label('lxc')), ctx(['process']), 'op'))).toMatch(/isolab.backend="lxc" names no backend/);
  });

  it('refuses what isolab agents cannot do, as TASK_ERROR reasons', () => {
    const c = ctx(['process', 'docker']);
    expect(refused(launchOf(task({ command: null }), c, 'op'))).toMatch(/needs a command or an executor/);
    expect(refused(launchOf(task({ executor: { executor_id: { value: 'isolab' } } }), c, 'op'))).toMatch(/not both/);
    expect(refused(launchOf(task({ command: null, executor: { executor_id: { value: 'spark' } } }), c, 'op'))).toMatch(/executor "spark" is not available/);
    expect(refused(launchOf(task({ container: { type: 'DOCKER', docker: { image: 'nginx' } } }), c, 'op'))).toMatch(/image "nginx" is not available/);
    expect(refused(launchOf(task({ container: { type: 'UNKNOWN' } }), c, 'op'))).toMatch(/container.type "UNKNOWN" is not supported/);
    expect(refused(launchOf(task({ command: { value: 'x', uris: [{ value: 'http://x' }] } }), c, 'op'))).toMatch(/do not fetch URIs/);
    expect(refused(launchOf(task({ command: { value: '  ' } }), c, 'op'))).toMatch(/command.value is empty/);
    expect(refused(launchOf(task({ health_check: { type: 'HTTP' } }), c, 'op'))).toMatch(/health checks are not supported/);
    const disk = task({ resources: [...(task().resources as Json[]), { name: 'disk', type: 'SCALAR', scalar: { value: 10 } }] });
    expect(refused(launchOf(disk, c, 'op'))).toMatch(/resource "disk" is not offered/);
    const ports = task({ resources: [...(task().resources as Json[]), { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 1, end: 2 }] } }] });
    expect(refused(launchOf(ports, c, 'op'))).toMatch(/resource "ports" is not offered/);
  });

  it('a zero disk and an empty port range ask for nothing and are fine', () => {
    const t = task({ resources: [...(task().resources as Json[]), { name: 'disk', type: 'SCALAR', scalar: { value: 0 } }, { name: 'ports', type: 'RANGES', ranges: { range: [] } }] });
    expect(launched(launchOf(t, ctx(['process']), 'op')).resources).toEqual({ cpus: 0.5, mem: 64 });
  });

  it('shell false: the executable and its argument vector; environment variables; max_completion_time as the timeout', () => {
    const l = launched(launchOf(task({
      command: { shell: false, value: '/bin/echo', arguments: ['echo', 'a b'], environment: { variables: [{ name: 'X', value: '1' }] } },
      max_completion_time: { nanoseconds: 2_500_000_000 },
    }), ctx(['process']), 'op'));
    expect(l.payload).toEqual({ taskId: 't1', mode: 'command', command: { value: '/bin/echo', shell: false, arguments: ['echo', 'a b'], environment: { X: '1' } } });
    expect(l.timeoutMs).toBe(2500);
  });

  it('an isolab executor task carries its ExecutorTask in data; the task id inside must be the task\'s', () => {
    const et = { taskId: 't1', mode: 'wordcount', input: '/x', start: 0, end: 10, size: 10 };
    const data = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64');
    const ex = { command: null, executor: { executor_id: { value: 'isolab' } } };
    expect(launched(launchOf(task({ ...ex, data: data(et) }), ctx(['process']), 'op')).payload).toEqual(et);
    expect(refused(launchOf(task({ ...ex, data: data({ ...et, taskId: 'other' }) }), ctx(['process']), 'op'))).toMatch(/taskId "other" is not the task's id/);
    expect(refused(launchOf(task({ ...ex, data: data({ ...et, mode: 'mine' }) }), ctx(['process']), 'op'))).toMatch(/unknown executor mode "mine"/);
    expect(refused(launchOf(task({ ...ex }), ctx(['process']), 'op'))).toMatch(/carries its ExecutorTask in op.data/);
  });

  it('launch → TaskInfo → launch is the identity (the HTTP driver and the API agree)', () => {
    const launches: TaskLaunch[] = [
      { taskId: 'map-0-1', name: 'wordcount map 0', resources: { cpus: 1, mem: 512 }, backend: 'docker', timeoutMs: 600000, payload: { taskId: 'map-0-1', mode: 'wordcount', input: '/proc/1/fd/3', start: 0, end: 5, size: 9 } },
      { taskId: 'c', name: 'c', resources: { cpus: 0.1, mem: 32 }, backend: 'process', payload: { taskId: 'c', mode: 'command', command: { value: 'true', environment: { A: 'b' } } } },
    ];
    for (const l of launches) expect(launched(launchOf(taskInfoJson(l, 'agent-1'), ctx(['process', 'docker']), 'op'))).toEqual({ ...l, agentId: 'agent-1' });
  });
});

describe('offers and status updates on the wire', () => {
  it('an offer carries url.address.ip (the npm client reads it), scalar resources and the agent\'s backends', () => {
    const o = { id: 'offer-1', frameworkId: 'f', agentId: 'a', hostname: 'h', resources: { cpus: 2, mem: 1024 }, backends: ['process', 'docker'], createdAt: 5 };
    const j = offerJson(o, { hostname: 'h', ip: '127.0.0.1', port: 5050 });
    expect((j.url as Json).address).toEqual({ hostname: 'h', ip: '127.0.0.1', port: 5050 });
    expect(j.resources).toEqual([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: '*' },
      { name: 'mem', type: 'SCALAR', scalar: { value: 1024 }, role: '*' },
    ]);
    expect(offerOf(JSON.parse(JSON.stringify(j)), 99)).toEqual({ ...o, createdAt: 99 });
  });

  it('states are Mesos\' names, both ways, for every isolab state', () => {
    for (const s of TASK_STATES) expect(stateOf(wireState(s))).toBe(s);
    expect(wireState('running')).toBe('TASK_RUNNING');
    expect(stateOf('TASK_STAGING_LATER')).toBeUndefined();
  });

  it('a status: uuid when an acknowledgement is due, reason by Mesos name, data as base64 JSON, timestamp in seconds', () => {
    const s: TaskStatus = { taskId: 't', frameworkId: 'f', agentId: 'a', state: 'finished', uuid: 'x', timestamp: 1500, message: 'Command exited with status 0', reason: 'reconciliation', data: { exit: { exitCode: 0 } } };
    const uuid = Buffer.alloc(16, 1).toString('base64');
    const j = statusJson(s, uuid);
    expect(j).toMatchObject({ task_id: { value: 't' }, agent_id: { value: 'a' }, executor_id: { value: 't' }, state: 'TASK_FINISHED', reason: 'REASON_RECONCILIATION', uuid, timestamp: 1.5, source: 'SOURCE_MASTER' });
    expect(statusOf(JSON.parse(JSON.stringify(j)), 'f')).toEqual({ ...s, uuid });
    expect(statusJson({ ...s, reason: 'some agent words' })).not.toHaveProperty('reason');
    expect(statusJson({ ...s, uuid: '' })).not.toHaveProperty('uuid');
  });

  it('events read back', () => {
    expect(parseEvent(subscribedEvent('f', 5, { id: 'm', ip: 0, port: 1, hostname: 'h', version: 'v', address: { hostname: 'h', ip: '::1', port: 1 } }))).toEqual({ type: 'SUBSCRIBED', frameworkId: 'f', heartbeatSeconds: 5 });
    expect(parseEvent(updateEvent({ state: 'TASK_RUNNING' }))).toEqual({ type: 'UPDATE', status: { state: 'TASK_RUNNING' } });
    expect(parseEvent({ type: 'INVERSE_OFFERS' })).toEqual({ type: 'OTHER', name: 'INVERSE_OFFERS' });
  });
});
