/**
 * The replay's suggestion stage: the suggester Lambda's own code (`handleFinishedBuild`) with the simulation's
 * build logs, an in-memory index of passing builds, a local daily token budget and the suggestions kept in
 * memory. Offline by default; with a Bedrock model id it calls Bedrock Converse with the caller's credentials
 * and falls back to the offline suggester on every failure, exactly as in AWS.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';

import { BuildRecord } from '../../core/collection/build-record';
import {
  FixSuggestionDeps,
  handleFinishedBuild,
  LogLocation,
  PassingBuildIndex,
  TokenBudget,
} from '../../core/suggestions/fix-suggestions';
import { DEFAULT_MAX_TOKENS } from '../../core/suggestions/prompts';
import { Suggestion } from '../../core/suggestions/suggestion';
import { BedrockSuggestionModel } from '../../lambda/suggester/adapters';
import type { Suggester } from '../replay';
import { SimulatedCi } from '../simulation/simulated-ci';

/** Tokens a day the local budget allows Bedrock (the deployed default is set on the FixSuggestions construct). */
const DAILY_TOKEN_BUDGET = 200_000;
/** Log lines the excerpt selector keeps, as the suggester Lambda does. */
const EXCERPT_BUDGET = 50;

export interface SuggesterStats {
  bedrockCalls: number;
  inputTokens: number;
  outputTokens: number;
  fallbacks: Record<string, number>;
  warnings: string[];
}

export function simulatedSuggester(
  ci: SimulatedCi,
  options: { readonly bedrockModelId?: string; readonly bedrock?: BedrockRuntimeClient } = {},
): { suggester: Suggester; stats: SuggesterStats } {
  const stats: SuggesterStats = {
    bedrockCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    fallbacks: {},
    warnings: [],
  };
  const passing = new Map<string, { buildId: string; logs: LogLocation }>();
  const spent = new Map<string, number>();
  let clock = new Date(0);
  const passingBuilds: PassingBuildIndex = {
    lastPassing: async (projectName) => passing.get(projectName),
    recordPassing: async (projectName, buildId, logs) => void passing.set(projectName, { buildId, logs }),
  };
  const tokenBudget: TokenBudget = {
    reserve: async (day, tokens) => {
      const used = spent.get(day) ?? 0;
      if (used + tokens > DAILY_TOKEN_BUDGET) return false;
      spent.set(day, used + tokens);
      return true;
    },
    settle: async (day, delta) => void spent.set(day, (spent.get(day) ?? 0) + delta),
  };
  let delivered: Suggestion | undefined;
  const model = options.bedrockModelId
    ? new BedrockSuggestionModel(options.bedrock ?? new BedrockRuntimeClient({}))
    : undefined;
  const deps: FixSuggestionDeps = {
    logs: {
      read: async (location) =>
        ci.buildLog(
          `${location.groupName!.slice(location.groupName!.lastIndexOf('/') + 1)}:${location.streamName}`,
        ),
    },
    passingBuilds,
    delivery: {
      isStored: async () => false,
      store: async (suggestion) => {
        delivered = suggestion;
      },
      publish: async () => undefined,
      notify: async () => undefined,
    },
    ...(model ? { model: countingModel(model, stats), tokenBudget } : {}),
    diagnostics: {
      warn: (message, detail) => void stats.warnings.push(`${message}: ${JSON.stringify(detail)}`),
    },
    now: () => clock,
  };
  const suggester: Suggester = async (record: BuildRecord, now: Date, decision) => {
    clock = now;
    delivered = undefined;
    await handleFinishedBuild(
      deps,
      {
        ...(options.bedrockModelId ? { modelId: options.bedrockModelId } : {}),
        maxOutputTokens: DEFAULT_MAX_TOKENS,
        excerptBudget: EXCERPT_BUDGET,
      },
      record,
      decision,
    );
    const suggestion = delivered as Suggestion | undefined;
    if (suggestion?.fallbackReason) {
      stats.fallbacks[suggestion.fallbackReason] = (stats.fallbacks[suggestion.fallbackReason] ?? 0) + 1;
    }
    return suggestion;
  };
  return { suggester, stats };
}

function countingModel(model: BedrockSuggestionModel, stats: SuggesterStats): BedrockSuggestionModel {
  return {
    converse: async (request) => {
      stats.bedrockCalls++;
      const reply = await model.converse(request);
      stats.inputTokens += reply.usage?.inputTokens ?? 0;
      stats.outputTokens += reply.usage?.outputTokens ?? 0;
      return reply;
    },
  } as BedrockSuggestionModel;
}
