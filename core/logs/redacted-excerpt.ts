/**
 * The one way log text becomes an excerpt that leaves Pipemend: both logs are redacted whole (so a
 * private key split over lines, or a secret on a line the selector keeps, is gone before selection) and
 * the excerpt is selected from the redacted text. The CLI (`pipemend excerpt`, `pipemend suggest`), the
 * offline suggester, the Bedrock request, the stored suggestion, its event and its e-mail all start here;
 * `test/core/logs/redaction-outputs.test.ts` proves each of them with planted secrets, and fails when
 * code outside this module selects an excerpt from unredacted text.
 *
 * Redaction keeps the line structure, so the excerpt's line numbers refer to the original log.
 */
import { ExcerptOptions, LogExcerpt, selectFailureExcerpt } from './log-excerpt';
import { redactSecrets } from './redaction';

export interface RedactedExcerpt {
  readonly excerpt: LogExcerpt;
  /** Secrets replaced in both logs. */
  readonly redactedSecrets: number;
}

/** Redacts both logs, then selects the failure excerpt from them. */
export function selectRedactedExcerpt(
  failLog: string,
  passLog?: string,
  options: ExcerptOptions = {},
): RedactedExcerpt {
  const fail = redactSecrets(failLog);
  const pass = passLog === undefined ? undefined : redactSecrets(passLog);
  return {
    excerpt: selectFailureExcerpt(fail.text, pass?.text, options),
    redactedSecrets: fail.total + (pass?.total ?? 0),
  };
}
