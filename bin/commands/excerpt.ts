import { readFileSync } from 'node:fs';

import { Command, InvalidArgumentError } from 'commander';

import { DEFAULT_EXCERPT_BUDGET, MAX_EXCERPT_BUDGET } from '../../core/logs/log-excerpt';
import { selectRedactedExcerpt } from '../../core/logs/redacted-excerpt';

export interface ExcerptCommandOptions {
  readonly fail: string;
  readonly pass?: string;
  readonly budget: number;
  readonly json?: boolean;
}

/** `pipemend excerpt`: the lines of a failed build's log that hold its error messages, secrets redacted. */
export function registerExcerptCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  program
    .command('excerpt')
    .description("Print the lines of a failed build's log that hold the error messages (secrets redacted)")
    .requiredOption('--fail <file>', "the failed build's log")
    .option(
      '--pass <file>',
      "the log of the project's last passing build, to leave out lines it also printed",
    )
    .option(
      '--budget <lines>',
      `at most this many lines (1-${MAX_EXCERPT_BUDGET})`,
      parseBudget,
      DEFAULT_EXCERPT_BUDGET,
    )
    .option('--json', 'print {"lines": [1-based line numbers], "text": "..."}')
    .action((options: ExcerptCommandOptions) => {
      const failLog = readLog(options.fail, '--fail');
      const passLog = options.pass === undefined ? undefined : readLog(options.pass, '--pass');
      const { excerpt } = selectRedactedExcerpt(failLog, passLog, { budget: options.budget });
      write(
        options.json
          ? `${JSON.stringify({ lines: excerpt.lines, text: excerpt.text })}\n`
          : `${excerpt.text}\n`,
      );
    });
}

/** Commander parser for `--budget`: an integer within the excerpt limits. */
export function parseBudget(value: string): number {
  const budget = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(budget) || budget < 1 || budget > MAX_EXCERPT_BUDGET) {
    throw new InvalidArgumentError(`must be an integer between 1 and ${MAX_EXCERPT_BUDGET}, got '${value}'`);
  }
  return budget;
}

/** Reads a log file, naming the option and the reason when it cannot. */
export function readLog(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new Error(`cannot read ${option} log '${file}': ${why}`);
  }
}
