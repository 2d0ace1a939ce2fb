/**
 * The offline suggester: the error-signature library turned into a suggestion, with no model. Used when
 * Bedrock is not configured, over its token budget or fails, and by the local replay.
 */
import { ERROR_SIGNATURES, ErrorSignature } from './error-signatures';
import { LogExcerpt } from './log-excerpt';
import { RedactedExcerpt, selectRedactedExcerpt } from './redacted-excerpt';
import { FallbackReason, Suggestion } from './suggestion';

export interface BuildIdentity {
  readonly buildId: string;
  readonly buildArn?: string;
  readonly projectName?: string;
}

export interface SuggestFixInput {
  readonly failLog: string;
  readonly passLog?: string;
  readonly build?: BuildIdentity;
  /** @default 50 */
  readonly budget?: number;
  /** @default new Date() */
  readonly now?: Date;
}

/** Redacts both logs and selects the excerpt from them: the one way logs enter the suggestion path. */
export function prepareExcerpt(
  failLog: string,
  passLog: string | undefined,
  budget?: number,
): RedactedExcerpt {
  return selectRedactedExcerpt(failLog, passLog, { budget });
}

/** A suggestion for a failed build from its log (and the last passing build's, when known). */
export function suggestFix(input: SuggestFixInput): Suggestion {
  const { excerpt, redactedSecrets } = prepareExcerpt(input.failLog, input.passLog, input.budget);
  return offlineSuggestion({
    excerpt,
    diffedAgainstPassingBuild: input.passLog !== undefined,
    redactedSecrets,
    build: input.build ?? { buildId: 'unknown' },
    now: input.now ?? new Date(),
  });
}

export interface OfflineSuggestionInput {
  /** Selected from redacted logs. */
  readonly excerpt: LogExcerpt;
  readonly diffedAgainstPassingBuild: boolean;
  readonly redactedSecrets: number;
  readonly build: BuildIdentity;
  readonly now: Date;
  readonly fallbackReason?: FallbackReason;
  readonly fallbackDetail?: string;
  readonly modelId?: string;
}

/** The suggestion the signature library makes for an already selected (and redacted) excerpt. */
export function offlineSuggestion(input: OfflineSuggestionInput): Suggestion {
  const { excerpt } = input;
  const cause = pickCause(excerpt);
  const evidenceLines = cause ? cause.lines : excerpt.lines.slice(0, 5);
  const firstEvidence = cause ? excerptLine(excerpt, cause.lines[0]!) : undefined;
  const confidence = !cause ? 0.1 : cause.signature.category === 'unknown' ? 0.3 : 0.6;
  return {
    schemaVersion: 1,
    buildId: input.build.buildId,
    ...(input.build.buildArn ? { buildArn: input.build.buildArn } : {}),
    ...(input.build.projectName ? { projectName: input.build.projectName } : {}),
    source: 'offline',
    ...(input.modelId ? { modelId: input.modelId } : {}),
    ...(input.fallbackReason ? { fallbackReason: input.fallbackReason } : {}),
    ...(input.fallbackDetail ? { fallbackDetail: input.fallbackDetail } : {}),
    summary: cause ? cause.signature.title : 'The build failed without a recognised error message',
    rootCause: cause
      ? `${cause.signature.title}: ${truncate(firstEvidence ?? '', 400)}`
      : 'No line of the log matches a known error signature; read the excerpt (the last lines the passing build did not print).',
    category: cause?.signature.category ?? 'unknown',
    suggestedFix: cause
      ? cause.signature.guidance
      : 'Open the full build log, find the first error, and rerun once to rule out a transient failure.',
    confidence,
    evidenceLines,
    excerpt: {
      lines: excerpt.lines,
      text: excerpt.text,
      diffedAgainstPassingBuild: input.diffedAgainstPassingBuild,
    },
    redactedSecrets: input.redactedSecrets,
    createdAt: input.now.toISOString(),
  };
}

/**
 * The most specific signature among the excerpt's matches (library order), with the lines it matched:
 * a compiler error explains a build more than the build tool's "failed to execute goal" after it.
 */
function pickCause(excerpt: LogExcerpt): { signature: ErrorSignature; lines: number[] } | undefined {
  let best: { signature: ErrorSignature; rank: number } | undefined;
  for (const match of excerpt.matches) {
    const rank = ERROR_SIGNATURES.indexOf(match.signature);
    if (!best || rank < best.rank) best = { signature: match.signature, rank };
  }
  if (!best) return undefined;
  const signature = best.signature;
  const lines = excerpt.matches.filter((match) => match.signature === signature).map((match) => match.line);
  return { signature, lines: lines.slice(0, 10) };
}

function excerptLine(excerpt: LogExcerpt, line: number): string | undefined {
  const index = excerpt.lines.indexOf(line);
  return index < 0 ? undefined : excerpt.text.split('\n')[index]?.trim();
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
