import { resolve } from 'node:path';
import { writeCorpus } from '../../workload/corpus.js';
import { int, num, parseFlags, str, type Command } from '../command.js';
import { RuntimeError, UsageError } from '../errors.js';

const HELP = `Usage: isolab corpus --out FILE [--size MB] [--seed N] [--vocabulary N]

Writes a deterministic text corpus: Zipf-like word frequencies over a generated vocabulary,
mixed whitespace, some multi-byte UTF-8. Same options, same bytes.

Options:
  --out FILE          file to write (required)
  --size MB           size in megabytes (10^6 bytes), fractions allowed (default: 10)
  --seed N            PRNG seed (default: 1)
  --vocabulary N      distinct base words (default: 20000); punctuated forms add more distinct
                      words: 50 MB hold about 51 k distinct words with the default and about
                      230 k with --vocabulary 160000
  -h, --help          show this help`;

export const corpusCommand: Command = {
  name: 'corpus',
  summary: 'generate a deterministic text corpus',
  help: HELP,
  async run(argv) {
    const p = parseFlags(argv, { out: { type: 'string' }, size: { type: 'string' }, seed: { type: 'string' }, vocabulary: { type: 'string' } });
    const out = str(p, 'out');
    if (!out) throw new UsageError('--out FILE is required');
    const bytes = Math.round(num(p, 'size', 10) * 1e6);
    try {
      await writeCorpus(resolve(out), { bytes, seed: int(p, 'seed', 1, 0), vocabulary: int(p, 'vocabulary', 20000) });
    } catch (err) {
      throw new RuntimeError(`cannot write ${out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    process.stderr.write(`wrote ${bytes} bytes to ${out}\n`);
    return 0;
  },
};
