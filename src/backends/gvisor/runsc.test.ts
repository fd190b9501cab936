import { describe, expect, it } from 'vitest';
import { runtimeArg, unknownRuntimeReason, parseRuntimeVersion, type RuntimeFacts } from '../docker/runtime.js';
import { checkRunsc, gvisorRuntime, parseDefaultPlatform, RUNSC_HINTS, type RunscHost } from './runsc.js';

const facts = (over: Partial<RuntimeFacts> = {}): RuntimeFacts => ({
  name: 'runsc', known: true, isDefault: false, path: '/usr/bin/runsc', args: ['--platform=ptrace', '--network=none'],
  binary: '/usr/bin/runsc', version: '0.0~20221219.0', ...over,
});
const host = (platform = 'ptrace', kvm = false): RunscHost => ({ defaultPlatform: async () => platform, hasKvm: () => kvm });

describe('runsc as a Docker runtime', () => {
  it('records the platform given in the runtime arguments, else runsc\'s own default', async () => {
    expect(await checkRunsc(facts(), host('kvm'))).toEqual({
      attributes: { 'gvisor.platform': 'ptrace', 'gvisor.platform.source': 'runtime arguments', 'gvisor.network': 'none' },
      note: 'platform ptrace',
    });
    const dflt = await checkRunsc(facts({ args: ['--network', 'none'] }), host('systrap'));
    expect(dflt.attributes).toMatchObject({ 'gvisor.platform': 'systrap', 'gvisor.platform.source': 'runsc default' });
    expect(dflt.problem).toBeUndefined();
  });

  it('is not usable without --network=none, and says why in one line', async () => {
    const r = await checkRunsc(facts({ args: ['--platform=ptrace'] }), host());
    expect(r.problem).toMatch(/^runtime runsc is registered without --network=none .*"cannot run with network enabled in root network namespace"/);
    expect(r.problem).not.toContain('\n');
  });

  it('is not usable on the kvm platform without /dev/kvm (injected: no /dev/kvm)', async () => {
    const r = await checkRunsc(facts({ args: ['--platform=kvm', '--network=none'] }), host('ptrace', false));
    expect(r.problem).toMatch(/kvm platform, but \/dev\/kvm is missing/);
    expect((await checkRunsc(facts({ args: ['--platform=kvm', '--network=none'] }), host('ptrace', true))).problem).toBeUndefined();
  });

  it('says why dockerd cannot run it: not installed, or installed but not registered (injected states)', () => {
    expect(unknownRuntimeReason(facts({ known: false, binary: undefined, version: undefined, path: undefined, args: [] }), RUNSC_HINTS))
      .toBe('dockerd does not know the runtime runsc: runsc is not installed (Debian package runsc; scripts/setup.sh installs it and registers it with dockerd)');
    expect(unknownRuntimeReason(facts({ known: false, path: undefined, args: [] }), RUNSC_HINTS)).toMatch(
      /^dockerd does not know the runtime runsc: runsc 0\.0~20221219\.0 is installed at \/usr\/bin\/runsc but not registered \(scripts\/setup\.sh adds it/,
    );
  });

  it('parses runsc\'s flags and versions, and the runtime\'s name from the environment', () => {
    expect(parseDefaultPlatform('  -platform string\n    \tspecifies which platform to use: ptrace (default), kvm. (default "ptrace")\n')).toBe('ptrace');
    expect(parseDefaultPlatform('nothing')).toBeUndefined();
    expect(parseRuntimeVersion('runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n')).toBe('0.0~20221219.0');
    expect(parseRuntimeVersion('crun version 1.8.1\ncommit: abc\n')).toBe('1.8.1');
    expect(parseRuntimeVersion('runc version 1.1.5+ds1\n')).toBe('1.1.5+ds1');
    expect(runtimeArg(['--platform', 'kvm', '-network=none'], 'platform')).toBe('kvm');
    expect(runtimeArg(['--platform', 'kvm', '-network=none'], 'network')).toBe('none');
    expect(gvisorRuntime({})).toBe('runsc');
    expect(gvisorRuntime({ ISOLAB_GVISOR_RUNTIME: 'runsc-kvm' })).toBe('runsc-kvm');
  });
});
