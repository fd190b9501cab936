import type { Command } from './command.js';
import { corpusCommand } from './commands/corpus.js';
import { doctorCommand } from './commands/doctor.js';
import { imageCommand } from './commands/image.js';
import { reapCommand } from './commands/reap.js';
import { wordcountCommand } from './commands/wordcount.js';
import { simulateCommand } from './commands/simulate.js';
import { masterCommand } from './commands/master.js';
import { experimentCommand } from './commands/experiment.js';
import { labCommand } from './commands/lab.js';
import { reportCommand } from './commands/report.js';
import { compareCommand } from './commands/compare.js';

/** Every `isolab` sub-command, in help order. */
export const COMMANDS: Command[] = [wordcountCommand, doctorCommand, corpusCommand, imageCommand, reapCommand, simulateCommand, masterCommand, experimentCommand, labCommand, reportCommand, compareCommand];
