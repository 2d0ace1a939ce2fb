/**
 * The guards between a decision and an action: loop prevention, modes, a retry budget per
 * pipeline/stage/revision and per time window, and a circuit breaker that stops automatic actions after
 * repeated failures and escalates to a human exactly once. The logic is pure; the atomic bookkeeping is
 * behind the GuardStore port (DynamoDB conditional writes in AWS, memory in the local replay).
 */
import {
  Classification,
  GuardOutcome,
  REMEDIATION_MARKER_VARIABLE,
  RemediationMode,
  RemediationTarget,
  remediationScope,
} from './remediation';

// ---------------------------------------------------------------------------------------------------
// Loop prevention

/** What the triggering event says about its own origin. */
export interface TriggerOrigin {
  /** Environment variables of the build, when the event carries them (CodeBuild state changes). */
  readonly environmentVariables?: readonly { readonly name: string; readonly value?: string }[];
  /** CodeBuild's initiator: `<role>/<session>` for builds started by a role, `codepipeline/<name>` for pipelines. */
  readonly initiator?: string;
  /** CodePipeline state (`RESUMED` after a stage retry). */
  readonly pipelineState?: string;
  /** CodePipeline execution type (`ROLLBACK`), where the event carries it. */
  readonly executionType?: string;
  /** CodePipeline trigger type (`ManualRollback`, `AutomatedRollback`). */
  readonly triggerType?: string;
}

/**
 * Why an event must never trigger an action, or `undefined` if it may. Pipemend's own reruns carry the
 * marker variable and are started by the remediation role; retried stages report `RESUMED`; rollbacks
 * are rollbacks whoever started them.
 */
export function loopPreventionReason(
  origin: TriggerOrigin,
  ownInitiatorPrefixes: readonly string[],
): string | undefined {
  const marker = origin.environmentVariables?.find(
    (variable) => variable.name === REMEDIATION_MARKER_VARIABLE,
  );
  if (marker) return `The build is Pipemend's own rerun (remediation ${marker.value ?? 'unknown'}).`;
  if (
    origin.initiator !== undefined &&
    ownInitiatorPrefixes.some((prefix) => origin.initiator?.startsWith(prefix))
  ) {
    return `The build was started by Pipemend's remediation role (${origin.initiator}).`;
  }
  if (origin.pipelineState === 'RESUMED')
    return 'The stage was resumed by a retry; its outcome is judged when it ends.';
  if (origin.executionType === 'ROLLBACK' || origin.triggerType?.endsWith('Rollback')) {
    return 'The execution is a rollback; a rollback never triggers another action.';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Budgets and the circuit breaker

export interface GuardLimits {
  /** Automatic actions per pipeline/stage/revision (or project/revision) before escalation. */
  readonly maxActionsPerRevision: number;
  /** Automatic actions per pipeline (or project) within one window. */
  readonly maxActionsPerWindow: number;
  readonly windowSeconds: number;
  /** Consecutive failed remediations that open the circuit. */
  readonly breakerThreshold: number;
  /** How long an open circuit stays open after its last failure, and how long an escalation holds. */
  readonly breakerCooldownSeconds: number;
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = {
  maxActionsPerRevision: 1,
  maxActionsPerWindow: 3,
  windowSeconds: 3600,
  breakerThreshold: 3,
  breakerCooldownSeconds: 6 * 3600,
};

/** Checks limits a deployment passes in: every value a positive integer. */
export function validateGuardLimits(limits: GuardLimits): GuardLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new Error(`Guard limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return limits;
}

/** A budget: at most `limit` claims on `key`, kept until `expiresAt` (epoch seconds). */
export interface BudgetClaim {
  readonly key: string;
  readonly limit: number;
  readonly expiresAt: number;
  /** How a denial reads to a human. */
  readonly description: string;
}

export function budgetClaims(
  target: RemediationTarget,
  limits: GuardLimits,
  nowSeconds: number,
): BudgetClaim[] {
  const scope = remediationScope(target);
  const stage = target.kind === 'pipeline-stage' ? target.stageName : '-';
  // Without a known revision the failed execution (or build) is the unit: retrying it is the same attempt.
  const revision =
    target.revision ??
    (target.kind === 'pipeline-stage'
      ? `execution:${target.pipelineExecutionId}`
      : `build:${target.buildId}`);
  const windowIndex = Math.floor(nowSeconds / limits.windowSeconds);
  return [
    {
      key: `budget#${scope}#window#${windowIndex}`,
      limit: limits.maxActionsPerWindow,
      expiresAt: (windowIndex + 1) * limits.windowSeconds + limits.windowSeconds,
      description: `${limits.maxActionsPerWindow} automatic action(s) per ${limits.windowSeconds} s for ${scope}`,
    },
    {
      key: `budget#${scope}#stage#${stage}#revision#${revision}`,
      limit: limits.maxActionsPerRevision,
      expiresAt: nowSeconds + 30 * 86400,
      description: `${limits.maxActionsPerRevision} automatic action(s) for ${scope} stage ${stage} revision ${revision}`,
    },
  ];
}

export interface BreakerState {
  readonly consecutiveFailures: number;
  /** Epoch seconds of the last failed remediation. */
  readonly lastFailureAt?: number;
  /** Epoch seconds of the last escalation. */
  readonly escalatedAt?: number;
}

export const CLOSED_BREAKER: BreakerState = { consecutiveFailures: 0 };

export function isBreakerOpen(state: BreakerState, limits: GuardLimits, nowSeconds: number): boolean {
  return (
    state.consecutiveFailures >= limits.breakerThreshold &&
    state.lastFailureAt !== undefined &&
    nowSeconds - state.lastFailureAt < limits.breakerCooldownSeconds
  );
}

/** Escalations older than this (epoch seconds) no longer hold: a new episode escalates again. */
export function escalationHoldsSince(limits: GuardLimits, nowSeconds: number): number {
  return nowSeconds - limits.breakerCooldownSeconds;
}

/** The atomic bookkeeping the guard relies on. Every method must be safe under concurrent callers. */
export interface GuardStore {
  /** Takes one unit from every budget, or none if any is exhausted (returning the exhausted one). */
  consumeBudgets(claims: readonly BudgetClaim[]): Promise<{ readonly exhausted?: BudgetClaim }>;
  getBreaker(scope: string): Promise<BreakerState>;
  /** Marks the scope escalated unless an escalation still holds; true when this caller escalates. */
  claimEscalation(scope: string, nowSeconds: number, holdsSince: number): Promise<boolean>;
  /**
   * Records a remediation's result: a success closes the circuit, a failure counts towards opening it.
   * With a `resultId` (the remediation id) a repeated call for the same result changes nothing, so a
   * retried record step never counts one failure twice.
   */
  recordResult(
    scope: string,
    succeeded: boolean,
    nowSeconds: number,
    resultId?: string,
  ): Promise<BreakerState>;
  /** The mode configured for the scope, if any. */
  getMode(scope: string): Promise<RemediationMode | undefined>;
}

export interface GuardDecision {
  readonly outcome: Exclude<GuardOutcome, 'DUPLICATE'>;
  readonly mode: RemediationMode;
  readonly reasons: string[];
}

export interface GuardContext {
  readonly store: GuardStore;
  readonly limits: GuardLimits;
  readonly defaultMode: RemediationMode;
  readonly nowSeconds: number;
}

/** Lets a classified decision through, or not, and says why. */
export async function guardDecision(
  classification: Classification,
  context: GuardContext,
): Promise<GuardDecision> {
  const { store, limits, nowSeconds } = context;
  const { target, decision } = classification;
  if (target === null || decision.action === 'NONE') {
    return { outcome: 'SKIP', mode: context.defaultMode, reasons: decision.reasons };
  }
  const scope = remediationScope(target);
  const mode = (await store.getMode(scope)) ?? context.defaultMode;
  if (mode === 'shadow') {
    return {
      outcome: 'SHADOW',
      mode,
      reasons: [`${scope} is in shadow mode: the decision is recorded only.`],
    };
  }
  if (classification.quarantined && decision.action === 'NOTIFY') {
    // A known flake its owner handles: recorded, not paged, and no budget spent on it.
    return {
      outcome: 'SUPPRESS',
      mode,
      reasons: [
        `Every failed test is quarantined (owner ${classification.quarantined.owners.join(', ')}): recorded without a notification.`,
      ],
    };
  }
  const breaker = await store.getBreaker(scope);
  if (isBreakerOpen(breaker, limits, nowSeconds)) {
    return escalateOnce(
      context,
      scope,
      mode,
      `The circuit breaker for ${scope} is open after ${breaker.consecutiveFailures} consecutive failed remediations.`,
    );
  }
  const { exhausted } = await store.consumeBudgets(budgetClaims(target, limits, nowSeconds));
  if (exhausted) {
    return escalateOnce(context, scope, mode, `The retry budget is exhausted: ${exhausted.description}.`);
  }
  return mode === 'suggest'
    ? { outcome: 'SUGGEST', mode, reasons: [`${scope} is in suggest mode: a human decides.`] }
    : { outcome: 'PROCEED', mode, reasons: [`${scope} is in enforce mode.`] };
}

async function escalateOnce(
  context: GuardContext,
  scope: string,
  mode: RemediationMode,
  reason: string,
): Promise<GuardDecision> {
  const escalates = await context.store.claimEscalation(
    scope,
    context.nowSeconds,
    escalationHoldsSince(context.limits, context.nowSeconds),
  );
  return escalates
    ? { outcome: 'ESCALATE', mode, reasons: [reason, 'Automatic actions stop until a human looks.'] }
    : { outcome: 'SUPPRESS', mode, reasons: [reason, 'A human was already told.'] };
}
