/**
 * A fix suggestion for a failed build: what went wrong, why, and how to fix it, with the log lines it
 * rests on. Published as the `Pipemend Fix Suggestion` event and stored beside the build's decision record.
 *
 * Every field is text, a number or a closed category: a suggestion informs people and never triggers an
 * action, whatever a model or a log put into it.
 */
import { FailureCategory } from '../logs/error-signatures';

export const FIX_SUGGESTION_DETAIL_TYPE = 'Pipemend Fix Suggestion';

/** Why the offline suggester answered instead of the model. */
export type FallbackReason =
  | 'bedrock-not-configured'
  | 'token-budget-exhausted'
  | 'max-tokens'
  | 'guardrail-intervened'
  | 'content-filtered'
  | 'unexpected-stop-reason'
  | 'invalid-model-output'
  | 'model-error';

export interface SuggestionExcerpt {
  /** 1-based line numbers in the failed build's log. */
  readonly lines: number[];
  /** The lines themselves, secrets redacted. */
  readonly text: string;
  /** Whether the last passing build's log was used to drop lines it also had. */
  readonly diffedAgainstPassingBuild: boolean;
}

export interface Suggestion {
  readonly schemaVersion: 1;
  readonly buildId: string;
  readonly buildArn?: string;
  readonly projectName?: string;
  /** `bedrock`: written by the model; `offline`: by the signature library. */
  readonly source: 'bedrock' | 'offline';
  readonly modelId?: string;
  readonly fallbackReason?: FallbackReason;
  /** Human-readable detail of the fallback (e.g. the zod issues of an invalid answer). */
  readonly fallbackDetail?: string;
  readonly summary: string;
  readonly rootCause: string;
  readonly category: FailureCategory;
  readonly suggestedFix: string;
  /** In [0, 1]. */
  readonly confidence: number;
  /** Log lines the suggestion rests on: always a subset of the excerpt's lines. */
  readonly evidenceLines: number[];
  readonly excerpt: SuggestionExcerpt;
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
  /** Secrets replaced in the logs before anything else saw them. */
  readonly redactedSecrets: number;
  readonly createdAt: string;
}

/** Deterministic data-lake key: a redelivered event overwrites the same object. */
export function suggestionKey(projectName: string, buildId: string): string {
  const part = (value: string): string => value.replace(/\//g, '%2F');
  return `suggestions/project=${part(projectName)}/${part(buildId)}.json`;
}
