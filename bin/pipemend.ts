import { Command, CommanderError } from 'commander';

import { describeCliError } from './cli-errors';
import { registerCommands } from './commands';

/** The `pipemend` command line: local replay, detection, excerpts, backfill and approvals. */
export function buildProgram(): Command {
  const program = new Command()
    .name('pipemend')
    .description('Self-healing CI/CD pipelines for AWS: detect abnormal builds, remediate and explain.')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

/**
 * Runs the command line and sets the exit code: 0 on success, commander's code for a parse error (it has
 * already printed it), 1 with one line on standard error for anything a command throws.
 */
export async function main(
  argv: readonly string[],
  stderr: (text: string) => void = (text) => process.stderr.write(text),
): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    stderr(`pipemend: ${describeCliError(error)}\n`);
    return 1;
  }
}
