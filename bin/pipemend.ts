import { Command, CommanderError } from 'commander';

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

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`pipemend: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  void main(process.argv);
}
