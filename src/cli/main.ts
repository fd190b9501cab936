import { COMMANDS, findCommand } from './registry.js';

const USAGE = `isolab: what does isolation cost? Wordcount as a process, in a container and in a VM.

Usage: isolab <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n')}

Run "isolab <command> --help" for a command's options.`;

/**
 * CLI entry: dispatches to a command, turns errors into one line on stderr and an exit code.
 * Only the chosen command's module is loaded, so heavy libraries load only for the commands that use them.
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' ? findCommand(rest[0]) : undefined;
    process.stdout.write((target ? (await target.load()).help : USAGE) + '\n');
    return 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write('isolab 0.1.0\n');
    return 0;
  }
  const entry = findCommand(name);
  if (!entry) {
    process.stderr.write(`isolab: unknown command "${name}" (run isolab --help)\n`);
    return 2;
  }
  try {
    const cmd = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(cmd.help + '\n');
      return 0;
    }
    (await import('./crash.js')).installCrashHandler();
    return await cmd.run(rest);
  } catch (err) {
    const { code, message } = (await import('./errors.js')).describeError(err);
    process.stderr.write(`isolab: ${message}\n`);
    if (process.env.ISOLAB_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return code;
  }
}
