import { Command } from 'commander';

import { parseBudget, readLog } from './excerpt';
import { DEFAULT_EXCERPT_BUDGET, MAX_EXCERPT_BUDGET } from '../../core/logs/log-excerpt';
import { suggestFix } from '../../core/suggestions/offline-suggester';
import { Suggestion } from '../../core/suggestions/suggestion';

interface SuggestCommandOptions {
  readonly fail: string;
  readonly pass?: string;
  readonly budget: number;
  readonly json?: boolean;
}

/** `pipemend suggest`: the offline fix suggestion (signature library, no model) for a failed build's log. */
export function registerSuggestCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  program
    .command('suggest')
    .description(
      "Suggest a fix for a failed build's log with the offline signature library (secrets redacted)",
    )
    .requiredOption('--fail <file>', "the failed build's log")
    .option('--pass <file>', "the log of the project's last passing build")
    .option(
      '--budget <lines>',
      `excerpt lines (1-${MAX_EXCERPT_BUDGET})`,
      parseBudget,
      DEFAULT_EXCERPT_BUDGET,
    )
    .option('--json', 'print the Suggestion object as JSON')
    .action((options: SuggestCommandOptions) => {
      const suggestion = suggestFix({
        failLog: readLog(options.fail, '--fail'),
        passLog: options.pass === undefined ? undefined : readLog(options.pass, '--pass'),
        budget: options.budget,
      });
      write(options.json ? `${JSON.stringify(suggestion, null, 2)}\n` : formatSuggestion(suggestion));
    });
}

export function formatSuggestion(suggestion: Suggestion): string {
  return [
    `${suggestion.summary} [${suggestion.category}, confidence ${suggestion.confidence.toFixed(2)}]`,
    '',
    `Root cause: ${suggestion.rootCause}`,
    `Suggested fix: ${suggestion.suggestedFix}`,
    `Evidence: lines ${suggestion.evidenceLines.join(', ') || 'none'}${
      suggestion.redactedSecrets > 0
        ? ` (${suggestion.redactedSecrets} ${suggestion.redactedSecrets === 1 ? 'secret' : 'secrets'} redacted)`
        : ''
    }`,
    '',
    ...suggestion.excerpt.lines.map(
      (line, index) => `${String(line).padStart(6)} | ${suggestion.excerpt.text.split('\n')[index] ?? ''}`,
    ),
    '',
  ].join('\n');
}
