/**
 * The fix-suggestion use case, behind ports: read the failed build's log (and the last passing build's),
 * redact, select the excerpt, ask the model within a daily token budget, validate its answer, fall back
 * to the offline suggester whenever the model cannot be used or its answer cannot be trusted, deliver.
 */
import { DecisionContext, offlineSuggestion, prepareExcerpt } from './offline-suggester';
import { buildSuggestionRequest, ConverseRequest, GuardrailSettings, parseSuggestionAnswer } from './prompts';
import { FallbackReason, Suggestion } from './suggestion';
import { BuildRecord } from '../collection/build-record';

export type LogLocation = NonNullable<BuildRecord['logs']>;

export interface LogSource {
  /** The whole log text; throws `BuildLogUnavailableError` when the location holds no log. */
  read(location: LogLocation): Promise<string>;
}

export interface ModelReply {
  readonly stopReason: string;
  /** The concatenated text blocks of the assistant message. */
  readonly text: string;
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number };
}

export interface SuggestionModel {
  converse(request: ConverseRequest): Promise<ModelReply>;
}

export interface TokenBudget {
  /** Atomically reserves `tokens` of `day`'s budget; false when that would exceed it. */
  reserve(day: string, tokens: number): Promise<boolean>;
  /** Corrects a reservation by the difference between the tokens used and reserved. */
  settle(day: string, delta: number): Promise<void>;
}

export interface PassingBuildIndex {
  /** Where the project's last passing build's log is, if a passing build was seen. */
  lastPassing(projectName: string): Promise<{ buildId: string; logs: LogLocation } | undefined>;
  recordPassing(projectName: string, buildId: string, logs: LogLocation): Promise<void>;
}

export interface SuggestionDelivery {
  /** Whether a suggestion for the build was already stored (delivery completed). */
  isStored(projectName: string, buildId: string): Promise<boolean>;
  /** Stores the suggestion with the build's decision record; the last step of delivery. */
  store(suggestion: Suggestion): Promise<void>;
  /** Publishes the `Pipemend Fix Suggestion` event. */
  publish(suggestion: Suggestion): Promise<void>;
  /** Tells the humans (SNS). */
  notify(suggestion: Suggestion): Promise<void>;
}

export interface DiagnosticsSink {
  warn(message: string, detail: Record<string, unknown>): void;
}

export interface FixSuggestionDeps {
  readonly logs: LogSource;
  readonly passingBuilds: PassingBuildIndex;
  readonly delivery: SuggestionDelivery;
  /** Absent when Bedrock is not configured. */
  readonly model?: SuggestionModel;
  readonly tokenBudget?: TokenBudget;
  readonly diagnostics: DiagnosticsSink;
  readonly now: () => Date;
}

export interface FixSuggestionConfig {
  readonly modelId?: string;
  readonly guardrail?: GuardrailSettings;
  readonly maxOutputTokens: number;
  readonly excerptBudget: number;
}

export class BuildLogUnavailableError extends Error {
  override readonly name = 'BuildLogUnavailableError';
}

export class FixSuggestionConfigError extends Error {
  override readonly name = 'FixSuggestionConfigError';
}

const FAILED_STATUSES = new Set(['FAILED', 'FAULT', 'TIMED_OUT']);

/** Characters per token, conservatively low so that reservations over-estimate rather than under-. */
const CHARS_PER_TOKEN = 3;

export type FixSuggestionOutcome =
  | { readonly kind: 'suggested'; readonly suggestion: Suggestion }
  | { readonly kind: 'recorded-passing-build' }
  | { readonly kind: 'skipped'; readonly reason: string };

/** Handles one finished build: a failure gets a suggestion, a success becomes the next diff baseline. */
export async function handleFinishedBuild(
  deps: FixSuggestionDeps,
  config: FixSuggestionConfig,
  build: Pick<BuildRecord, 'buildId' | 'buildArn' | 'projectName' | 'status' | 'failedPhase' | 'logs'>,
  /** Remediation's decision on the same build, when known: the suggestion agrees with it. */
  decision?: DecisionContext,
): Promise<FixSuggestionOutcome> {
  if (build.status === 'SUCCEEDED') {
    if (!build.logs) return { kind: 'skipped', reason: 'the passing build has no log location' };
    await deps.passingBuilds.recordPassing(build.projectName, build.buildId, build.logs);
    return { kind: 'recorded-passing-build' };
  }
  if (!FAILED_STATUSES.has(build.status))
    return { kind: 'skipped', reason: `status ${build.status} is not a failure` };
  if (!build.logs)
    throw new BuildLogUnavailableError(`build ${build.buildId} has no log location (CloudWatch Logs or S3)`);
  // Verdicts arrive at least once: a build whose suggestion is stored was fully delivered before.
  if (await deps.delivery.isStored(build.projectName, build.buildId)) {
    return { kind: 'skipped', reason: `a suggestion for ${build.buildId} was already delivered` };
  }
  return {
    kind: 'suggested',
    suggestion: await suggestForFailedBuild(deps, config, build, build.logs, decision),
  };
}

async function suggestForFailedBuild(
  deps: FixSuggestionDeps,
  config: FixSuggestionConfig,
  build: Pick<BuildRecord, 'buildId' | 'buildArn' | 'projectName' | 'status' | 'failedPhase'>,
  logs: LogLocation,
  decision?: DecisionContext,
): Promise<Suggestion> {
  const failLog = await deps.logs.read(logs);
  const passLog = await readPassingLog(deps, build.projectName);
  const { excerpt, redactedSecrets } = prepareExcerpt(failLog, passLog, config.excerptBudget);
  const now = deps.now();
  const identity = { buildId: build.buildId, buildArn: build.buildArn, projectName: build.projectName };
  const diffedAgainstPassingBuild = passLog !== undefined;
  const fallback = (fallbackReason: FallbackReason, fallbackDetail?: string): Suggestion =>
    offlineSuggestion({
      excerpt,
      diffedAgainstPassingBuild,
      redactedSecrets,
      build: identity,
      now,
      fallbackReason,
      fallbackDetail,
      modelId: config.modelId,
      ...(decision ? { decision } : {}),
    });

  const suggestion = await (async (): Promise<Suggestion> => {
    if (!config.modelId || !deps.model) return fallback('bedrock-not-configured');
    if (!deps.tokenBudget)
      throw new FixSuggestionConfigError('a token budget is required when a model is configured');
    const request = buildSuggestionRequest({
      modelId: config.modelId,
      excerpt,
      build: { projectName: build.projectName, status: build.status, failedPhase: build.failedPhase },
      diffedAgainstPassingBuild,
      ...(decision ? { decision } : {}),
      maxTokens: config.maxOutputTokens,
      guardrail: config.guardrail,
    });
    const day = now.toISOString().slice(0, 10);
    const reserved = estimateTokens(request);
    if (!(await deps.tokenBudget.reserve(day, reserved))) return fallback('token-budget-exhausted');
    let reply: ModelReply;
    try {
      reply = await deps.model.converse(request);
    } catch (error) {
      // The reservation stays spent: a failed call may still have been billed.
      const detail = `${(error as Error).name}: ${(error as Error).message}`;
      deps.diagnostics.warn('Bedrock Converse failed; using the offline suggester', {
        buildId: build.buildId,
        detail,
      });
      return fallback('model-error', detail);
    }
    if (reply.usage) {
      await deps.tokenBudget.settle(day, reply.usage.inputTokens + reply.usage.outputTokens - reserved);
    }
    const stopFallback = STOP_REASON_FALLBACKS[reply.stopReason];
    if (stopFallback) return fallback(stopFallback, `stop reason ${reply.stopReason}`);
    if (reply.stopReason !== 'end_turn' && reply.stopReason !== 'stop_sequence') {
      return fallback('unexpected-stop-reason', `stop reason ${reply.stopReason}`);
    }
    const parsed = parseSuggestionAnswer(reply.text, excerpt.lines);
    if (!parsed.ok) return fallback('invalid-model-output', parsed.reason);
    return {
      schemaVersion: 1,
      ...identity,
      source: 'bedrock',
      modelId: config.modelId,
      ...parsed.answer,
      excerpt: { lines: excerpt.lines, text: excerpt.text, diffedAgainstPassingBuild },
      ...(reply.usage ? { usage: reply.usage } : {}),
      redactedSecrets,
      createdAt: now.toISOString(),
    };
  })();

  // Stored last: the stored object marks a completed delivery, so a retry after a failed publish or
  // notification delivers again rather than skipping.
  await deps.delivery.publish(suggestion);
  await deps.delivery.notify(suggestion);
  await deps.delivery.store(suggestion);
  return suggestion;
}

const STOP_REASON_FALLBACKS: Partial<Record<string, FallbackReason>> = {
  max_tokens: 'max-tokens',
  guardrail_intervened: 'guardrail-intervened',
  content_filtered: 'content-filtered',
};

/** Input characters over a conservative ratio, plus the whole output allowance. */
export function estimateTokens(request: ConverseRequest): number {
  const characters = JSON.stringify({ system: request.system, messages: request.messages }).length;
  return Math.ceil(characters / CHARS_PER_TOKEN) + request.inferenceConfig.maxTokens;
}

/** The passing build's log improves the excerpt but is optional: failing to read it is only a warning. */
async function readPassingLog(deps: FixSuggestionDeps, projectName: string): Promise<string | undefined> {
  try {
    const passing = await deps.passingBuilds.lastPassing(projectName);
    return passing ? await deps.logs.read(passing.logs) : undefined;
  } catch (error) {
    deps.diagnostics.warn('Could not read the last passing build log; selecting without a diff', {
      projectName,
      error: (error as Error).message,
    });
    return undefined;
  }
}
