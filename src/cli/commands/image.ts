import { listTemplates, removeTemplates } from '../../backends/vm/snapshot.js';
import { currentImage, ensureImage, listManifests, pruneImages } from '../../image/index.js';
import { session } from '../../session/session.js';
import { installSignalCleanup } from '../../session/signals.js';
import { flag, parseFlags, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';

const HELP = `Usage: isolab image build [--force] [--json]
       isolab image list [--json]
       isolab image prune [--snapshots] [--dry-run] [--json]

The guest image: one root filesystem tree (busybox, the host's own node and the libraries it
loads, the compiled executor) made into a Docker image (isolab-guest:<id>, via docker import),
an ext4 root disk, and the Debian cloud kernel with a busybox initramfs for the VM backend (the
kernel that scripts/setup.sh unpacked into <state>/kernels/, never one installed on the host).
<id> is a hash of every input, so "build" does nothing when nothing changed.
Images live under the state folder (images/<id>/), never in the repository.

Sub-commands:
  build         build the image for the current inputs unless it exists
  list          show the built images, marking the current one, with their vm:snapshot
                templates (images/<id>/snapshots/<accel>-<mem>m-<vcpus>c-<hash>)
  prune         remove every image in this state folder but the current one: the folders
                images/<id> (with their snapshot templates) and their Docker tags
                isolab-guest:<id> (tags of images built with another state folder are left
                alone); with --snapshots, the current image's templates too (they are
                rebuilt on the next vm:snapshot start)

Options:
  --force       build even when the image exists
  --snapshots   prune: also remove the current image's snapshot templates
  --dry-run     prune: only list what would be removed
  --json        print JSON instead of text
  -h, --help    show this help`;

export const imageCommand: Command = {
  name: 'image',
  summary: 'build, list or prune the guest image (Docker image, VM disk, kernel)',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { force: { type: 'boolean' }, json: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, snapshots: { type: 'boolean' } }, true);
    const [sub, ...extra] = p.positionals;
    if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
    const json = flag(p, 'json');
    const out = (s: string): boolean => process.stdout.write(s + '\n');
    if (sub === 'build') {
      const sess = session();
      const abort = new AbortController();
      const uninstall = installSignalCleanup(sess, abort, (l) => process.stderr.write(l + '\n'));
      try {
        const info = await ensureImage({ force: flag(p, 'force'), log: (l) => process.stderr.write(`isolab image: ${l}\n`) }).catch((err: unknown) => {
          throw new RuntimeError(`image build failed: ${err instanceof Error ? err.message : String(err)}`);
        });
        if (json) out(JSON.stringify(info));
        else {
          out(`${info.built ? 'built' : 'up to date'}: ${info.id} (node ${info.nodeVersion})`);
          out(`  docker  ${info.dockerSkipped ? `not made or checked: ${info.dockerSkipped}` : `${info.dockerTag} ${info.dockerImageId?.slice(7, 19) ?? ''}`}`);
          out(`  disk    ${info.rootDisk} (${(info.rootDiskBytes / 2 ** 20).toFixed(0)} MiB)`);
          out(`  kernel  ${info.kernel ? `${info.kernel} (${info.kernelVersion})` : `none: ${info.noKernel}`}`);
          if (info.initramfs) out(`  initrd  ${info.initramfs} (modules: ${info.modules.join(' ')})`);
          if (info.built) out(`  build   ${Object.entries(info.buildMs).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
        }
        return 0;
      } finally {
        uninstall();
        for (const e of await sess.close()) process.stderr.write(`isolab: cleanup: ${e}\n`);
      }
    }
    if (sub === 'list') {
      const cur = await currentImage().catch(() => undefined);
      const all = listManifests();
      const templates = listTemplates(all.map((m) => m.id));
      if (json) out(JSON.stringify({ current: cur?.id ?? null, images: all, templates }));
      else if (!all.length) out('no images built (run isolab image build)');
      else {
        for (const m of all) {
          out(`${m.id === cur?.id ? '*' : ' '} ${m.id}  ${m.createdAt}  node ${m.nodeVersion}  ${m.kernelVersion ?? 'no kernel'}  ${m.dir}`);
          for (const t of templates.filter((x) => x.imageId === m.id)) {
            out(t.info
              ? `    snapshot ${t.dir}  ${(t.info.stateBytes / 1e6).toFixed(0)} MB  ${t.info.createdAt}  (boot ${t.info.buildMs.boot} ms, save ${t.info.buildMs.save} ms)`
              : `    snapshot ${t.dir}  (incomplete: being built, or left by a crash; reap removes it)`);
          }
        }
        if (!cur) out('(none matches the current inputs: run isolab image build)');
      }
      return 0;
    }
    if (sub === 'prune') {
      const dry = flag(p, 'dry-run');
      const items: { kind: string; id: string; error?: string }[] = await pruneImages({ dryRun: dry });
      if (flag(p, 'snapshots')) {
        const cur = await currentImage().catch(() => undefined);
        if (cur) for (const d of removeTemplates([cur.id], { dryRun: dry })) items.push({ kind: 'snapshot', id: d });
      }
      if (json) out(JSON.stringify({ dryRun: dry, items }));
      else {
        for (const i of items) out(`${i.kind.padEnd(8)} ${i.id}  ${i.error ? `FAILED: ${i.error}` : dry ? 'would remove' : 'removed'}`);
        out(`${items.length} old image part(s) ${dry ? 'found' : 'removed'}`);
      }
      return items.some((i) => i.error) ? 1 : 0;
    }
    throw new UsageError(sub ? `unknown image sub-command "${sub}" (build, list, prune)` : 'image needs a sub-command: build, list or prune');
  },
};
