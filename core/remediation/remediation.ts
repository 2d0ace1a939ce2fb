/**
 * The vocabulary of remediation shared by the classifier, the guard, the state machine and the local
 * replay: what a remediation acts on, what it decides and what came of it.
 */
/**
 * `shadow` decides and records, `suggest` notifies with the action, `enforce` acts. The deploy-time
 * configuration (lib/config.ts) takes its list from here: the domain defines it, once.
 */
export const REMEDIATION_MODES = ['shadow', 'suggest', 'enforce'] as const;
export type RemediationMode = (typeof REMEDIATION_MODES)[number];

export const REMEDIATION_ACTIONS = ['RERUN_CLEAN', 'ROLLBACK', 'NOTIFY', 'NONE'] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

/** A CodeBuild project run on its own, or a stage of a CodePipeline pipeline. */
export type RemediationTarget =
  | {
      readonly kind: 'codebuild-project';
      readonly projectName: string;
      readonly buildId: string;
      readonly buildArn?: string;
      readonly revision?: string;
    }
  | {
      readonly kind: 'pipeline-stage';
      readonly pipelineName: string;
      readonly stageName: string;
      readonly pipelineExecutionId: string;
      /** The pipeline structure version the failed execution ran on. */
      readonly pipelineVersion?: number;
      /** CodeBuild build of the failed action, when known (labels are written against it). */
      readonly buildId?: string;
      readonly revision?: string;
    };

export interface RemediationDecision {
  readonly action: RemediationAction;
  /** Why, in plain sentences, strongest first. */
  readonly reasons: string[];
  /** How sure the policy is, in [0, 1]. */
  readonly confidence: number;
}

/** What the classifier hands to the guard: the decision and everything it was made on. */
export interface Classification {
  readonly eventId: string;
  /**
   * What this failure is, independent of the event that reported it (a verdict, a CodeBuild event and a
   * pipeline stage event can all report one failure): the guard acts once per claim key.
   */
  readonly claimKey: string;
  /** `null` when the event is not actionable (loop prevention, success, no target). */
  readonly target: RemediationTarget | null;
  readonly decision: RemediationDecision;
  /** For a CodeBuild rerun: the compute type to run on (the build's own, or a larger one after OOM). */
  readonly rerun?: { readonly computeType: string };
  /**
   * For a rerun decided on failed tests (flaky, or failing for the first time): the tests, so that the
   * outcome tells a flake (the rerun passes: recorded as flaky) from a regression (it fails again).
   */
  readonly tests?: {
    readonly projectName: string;
    readonly failed: string[];
    readonly basis: 'first-failure' | 'flaky';
  };
  /**
   * Set when every failed test is actively quarantined (quarantine.ts): the failure is recorded, a NOTIFY
   * is suppressed by the guard (nobody paged, no budget spent).
   */
  readonly quarantined?: { readonly tests: string[]; readonly owners: string[] };
  /** What makes this failure the same as another (failure-fingerprint.ts): repeats notify once. */
  readonly fingerprint?: { readonly hash: string; readonly where: string; readonly cause: string };
  /** The health alarm consulted, if any, so the outcome check can consult it again. */
  readonly healthAlarmName?: string;
  readonly classifiedAt: string;
}

/** The scope budgets, circuit breakers and modes apply to: one pipeline, or one stand-alone project. */
export function remediationScope(target: RemediationTarget): string {
  return target.kind === 'pipeline-stage'
    ? `pipeline:${target.pipelineName}`
    : `project:${target.projectName}`;
}

/** The claim key of a target: one failed build, or one stage of one pipeline execution (retries included). */
export function targetClaimKey(target: RemediationTarget): string {
  return target.kind === 'pipeline-stage'
    ? `pipeline:${target.pipelineName}:stage:${target.stageName}:execution:${target.pipelineExecutionId}`
    : `build:${target.buildId}`;
}

/** What the guard let happen. */
export const GUARD_OUTCOMES = [
  /** Act (enforce mode). */
  'PROCEED',
  /** Notify with the proposed action (suggest mode). */
  'SUGGEST',
  /** Record only (shadow mode). */
  'SHADOW',
  /** Budget exhausted or circuit open: stop automatic actions and tell a human, once. */
  'ESCALATE',
  /** Budget exhausted or circuit open and a human was already told: record only. */
  'SUPPRESS',
  /** Nothing to do (action NONE). */
  'SKIP',
  /** Another execution already handled this event. */
  'DUPLICATE',
] as const;
export type GuardOutcome = (typeof GUARD_OUTCOMES)[number];

export interface GuardResult {
  readonly outcome: GuardOutcome;
  readonly mode: RemediationMode;
  readonly reasons: string[];
  /** Unique id of this remediation: marks Pipemend's own reruns and names the decision record. */
  readonly remediationId: string;
  /** The execution that claimed the event (duplicates see another execution's id here). */
  readonly executionId: string;
}

/** How a remediation ended, as recorded. */
export const REMEDIATION_STATUSES = [
  'SUCCEEDED',
  'FAILED',
  'SHADOWED',
  'SUGGESTED',
  'NOTIFIED',
  'ESCALATED',
  'SUPPRESSED',
  'DENIED',
  'APPROVAL_TIMED_OUT',
] as const;
export type RemediationStatus = (typeof REMEDIATION_STATUSES)[number];

/** The environment variable set on every build Pipemend starts, so its events never trigger another action. */
export const REMEDIATION_MARKER_VARIABLE = 'PIPEMEND_REMEDIATION_ID';

/**
 * State names of the remediation state machine, which the local runner, the CLI and the tests address:
 * changing one is a breaking change for all of them.
 */
export const REMEDIATION_STATES = {
  classify: 'Classify',
  guard: 'Guard',
  rerunBuild: 'RerunBuildClean',
  rerunBuildFromRevision: 'RerunBuildCleanFromRevision',
  findRetryExecution: 'FindRetryExecution',
  retryStage: 'RetryStage',
  requestApproval: 'RequestRollbackApproval',
  findRollbackTarget: 'FindRollbackTarget',
  rollbackStage: 'RollbackStage',
  watchRetry: 'WatchRetriedExecution',
  watchRollback: 'WatchRollbackExecution',
  waitRetry: 'WaitForRetriedExecution',
  waitRollback: 'WaitForRollbackExecution',
  record: 'RecordOutcome',
  publish: 'PublishNotification',
  publishRecordFailure: 'PublishRecordFailure',
} as const;

/** Error a `pipemend deny` answers the approval task with. */
export const APPROVAL_DENIED_ERROR = 'Pipemend.ApprovalDenied';
