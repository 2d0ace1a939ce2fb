/**
 * The remediation decision policy: from what is known about a finished build or pipeline stage, one
 * action (RERUN_CLEAN, ROLLBACK, NOTIFY or NONE) with its reasons and a confidence. Pure: the classify
 * Lambda and the local replay gather the inputs with their own adapters.
 */
import { FlakyTestAnalysis } from './flaky-tests';
import { QuarantinedFailure, QuarantineEntry, quarantinedFailure } from './quarantine';
import { RemediationDecision, RemediationTarget } from './remediation';
import { BuildStatus } from '../collection/build-record';
import { EnvironmentFaultMatch, summarizeEnvironmentFaults } from '../logs/environment-faults';
import { matchSignature } from '../logs/error-signatures';
import { FailureCause } from '../logs/failure-cause';
import { FeatureContribution } from '../scoring/verdict';

/** The health signal a user names for a deployment: a CloudWatch alarm's state. */
export interface HealthSignal {
  readonly alarmName: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason?: string;
}

export interface DecisionInput {
  /** `null` when there is nothing Pipemend could act on. */
  readonly target: RemediationTarget | null;
  /** Why the event must not trigger anything (loop prevention), if so. */
  readonly ignoreReason?: string;
  readonly status: BuildStatus;
  readonly failedPhase?: string;
  /** The scorer's view, when the event is a verdict. */
  readonly anomaly?: {
    readonly anomalous: boolean;
    readonly score: number;
    readonly threshold: number;
    readonly explanation: readonly FeatureContribution[];
  };
  readonly environmentFaults: readonly EnvironmentFaultMatch[];
  /**
   * What the log says failed the build (failure-cause.ts). When given, only the environment faults that
   * are the failing step's own errors count, its code errors speak against a rerun, and its failed phase
   * stands in for `failedPhase` when the build record has none.
   */
  readonly cause?: FailureCause;
  /** `null` when the build ran no tests or no history was available. */
  readonly tests: FlakyTestAnalysis | null;
  /** True when the target stage deploys (its health signal then decides about a rollback). */
  readonly isDeployment: boolean;
  readonly health?: HealthSignal;
  /** The compute type the build ran on, to suggest a larger one after running out of memory. */
  readonly computeType?: string;
  /**
   * The project's quarantine (quarantine.ts) and the time to judge its expiries at. A failure on tests
   * alone whose failed tests are all actively quarantined is a known flake its owners handle.
   */
  readonly quarantine?: { readonly entries: readonly QuarantineEntry[]; readonly now: Date };
}

export interface PolicyDecision extends RemediationDecision {
  /** For RERUN_CLEAN: a larger compute type, when the build ran out of memory. */
  readonly computeTypeOverride?: string;
  /**
   * Set when every failed test is quarantined: the decision is recorded but pages nobody (the guard
   * suppresses a NOTIFY), and a rerun is only the one the flaky-test policy gives anyway.
   */
  readonly quarantined?: QuarantinedFailure;
}

/** The reason that marks a failure of quarantined tests only. */
export const QUARANTINED_TESTS_REASON = 'quarantined tests only';

/** The reason of the one budgeted rerun a first test failure gets. */
export const FIRST_FAILURE_RERUN_REASON =
  'first failure of these tests: one rerun to tell a flake from a regression';

/** CodeBuild phases that only the environment can fail: nothing of the change has run yet. */
const ENVIRONMENT_PHASES = new Set(['SUBMITTED', 'QUEUED', 'PROVISIONING', 'DOWNLOAD_SOURCE', 'FINALIZING']);

const COMPUTE_LADDER = [
  'BUILD_GENERAL1_SMALL',
  'BUILD_GENERAL1_MEDIUM',
  'BUILD_GENERAL1_LARGE',
  'BUILD_GENERAL1_XLARGE',
  'BUILD_GENERAL1_2XLARGE',
];

export function decideRemediation(input: DecisionInput): PolicyDecision {
  if (input.ignoreReason !== undefined) return none(input.ignoreReason);
  if (input.target === null) return none('No CodeBuild build or pipeline stage to act on.');

  if (input.isDeployment && input.health?.state === 'ALARM')
    return decideAfterUnhealthyDeploy(input, input.health);

  if (input.status === 'SUCCEEDED') {
    if (input.anomaly?.anomalous) {
      return {
        action: 'NOTIFY',
        reasons: [`The build succeeded but is anomalous: ${describeAnomaly(input.anomaly)}.`],
        confidence: anomalyConfidence(input.anomaly.score, input.anomaly.threshold),
      };
    }
    return none('The build succeeded and looks normal.');
  }
  if (input.status === 'STOPPED') return none('The build was stopped on purpose.');
  return decideAfterFailure(input);
}

function decideAfterFailure(input: DecisionInput): PolicyDecision {
  const decision = decideOnEvidence(input);
  const quarantined = quarantinedTestFailure(input);
  if (!quarantined) return decision;
  const reason = describeQuarantine(quarantined);
  if (decision.action === 'RERUN_CLEAN') {
    // The rerun the flaky-test policy gives these tests anyway; its reason stays first.
    return {
      ...decision,
      reasons: [...decision.reasons, `${reason}: rerun as any flaky test would be, nobody paged.`],
      quarantined,
    };
  }
  return {
    action: 'NOTIFY',
    reasons: [
      `${reason}: recorded, nobody paged and no retry budget spent (the owner handles the test).`,
      ...decision.reasons,
    ],
    confidence: decision.confidence,
    quarantined,
  };
}

/**
 * The quarantine that covers the failure, if the build failed on tests alone (no environment fault or
 * phase, no compiler error) and every failed test is actively quarantined.
 */
function quarantinedTestFailure(input: DecisionInput): QuarantinedFailure | undefined {
  if (!input.quarantine || !input.tests || input.tests.failedTests.length === 0) return undefined;
  const faults = input.cause ? input.cause.environmentFaults : input.environmentFaults;
  const failedPhase = input.failedPhase ?? input.cause?.failedPhase;
  const inEnvironmentPhase = failedPhase !== undefined && ENVIRONMENT_PHASES.has(failedPhase);
  if (!failedOnTestsAlone(input, summarizeEnvironmentFaults(faults).length, inEnvironmentPhase))
    return undefined;
  return quarantinedFailure(input.tests.failedTests, input.quarantine.entries, input.quarantine.now);
}

function describeQuarantine(quarantined: QuarantinedFailure): string {
  const names = quarantined.tests.slice(0, 5).join(', ') + (quarantined.tests.length > 5 ? ', ...' : '');
  const owners = quarantined.owners.join(', ');
  return `${QUARANTINED_TESTS_REASON}: ${names}, owner${quarantined.owners.length > 1 ? 's' : ''} ${owners}`;
}

function decideOnEvidence(input: DecisionInput): PolicyDecision {
  const reasons: string[] = [];
  let confidence = 0;
  const cause = input.cause;
  const faults = cause ? cause.environmentFaults : input.environmentFaults;
  const faultKinds = summarizeEnvironmentFaults(faults);
  const failedPhase = input.failedPhase ?? cause?.failedPhase;
  const phaseSource = input.failedPhase !== undefined ? '' : " (as the log's step markers show)";
  const inEnvironmentPhase = failedPhase !== undefined && ENVIRONMENT_PHASES.has(failedPhase);
  if (faultKinds.length > 0) {
    const first = faults[0];
    reasons.push(
      `The log shows environment faults (${faultKinds.join(', ')})${first ? `, first at line ${first.lineNumber}: "${first.line}"` : ''}.`,
    );
    confidence = Math.max(confidence, Math.min(0.9, 0.6 + 0.1 * faultKinds.length));
  }
  if (cause && cause.verdict === 'code') {
    const firstError = cause.codeErrors[0];
    reasons.push(
      `The failing step reports ${cause.codeErrors.length} code error(s)${firstError ? `, first at line ${firstError.lineNumber}: "${firstError.line}"` : ''}.`,
    );
  }
  if (cause && faultKinds.length === 0 && cause.setAside.length > 0) {
    const aside = cause.setAside[cause.setAside.length - 1]!;
    const why = {
      'outside-failing-step': 'outside the failing step',
      retried: 'a warning the tool retried',
      'before-code-error': 'printed before the code errors that failed the step',
    }[aside.reason];
    reasons.push(
      `${cause.setAside.length} environment message(s) do not explain the failure (e.g. line ${aside.match.lineNumber}, ${why}: "${aside.match.line}").`,
    );
  }
  // A disk already full before any of the change ran is the host's state: a rerun there fails again.
  const hostDiskFull =
    inEnvironmentPhase && faultKinds.length > 0 && faultKinds.every((kind) => kind === 'disk-full');
  if (inEnvironmentPhase && hostDiskFull) {
    reasons.push(
      `The build host's disk was full in ${failedPhase}${phaseSource}, before any of the change ran: free space on the host; a rerun on it would fail again.`,
    );
    return { action: 'NOTIFY', reasons, confidence: 0.7 };
  }
  if (inEnvironmentPhase && faultKinds.length === 0 && cause?.notFound) {
    reasons.push(
      `The build failed in ${failedPhase}${phaseSource} on something that does not exist (not found / 404): a rerun would fail again.`,
    );
    return { action: 'NOTIFY', reasons, confidence: 0.6 };
  }
  if (inEnvironmentPhase) {
    reasons.push(`The build failed in ${failedPhase}${phaseSource}, before any of the change ran.`);
    confidence = Math.max(confidence, 0.85);
  }
  if (input.status === 'FAULT') {
    reasons.push('CodeBuild reported an internal fault, not a build failure.');
    confidence = Math.max(confidence, 0.7);
  }
  const tests = input.tests;
  if (tests && tests.failedTests.length > 0) {
    if (tests.consistent.length > 0) {
      reasons.push(
        `${tests.consistent.length} failed test(s) show no sign of flakiness (${tests.consistent.slice(0, 3).join(', ')}): likely a real failure.`,
      );
      // A failure on tests alone, none of which ever failed before: one rerun tells a flake from a regression
      // (a rerun that fails again is a regression; the per-revision budget never allows a second one).
      if (isFirstTestFailure(input, tests, faultKinds.length, inEnvironmentPhase)) {
        return {
          action: 'RERUN_CLEAN',
          reasons: [
            `${FIRST_FAILURE_RERUN_REASON} (${tests.consistent.slice(0, 3).join(', ')}${tests.consistent.length > 3 ? ', ...' : ''}).`,
          ],
          confidence: 0.5,
        };
      }
      // Real test failures outweigh flaky ones and ambiguous log lines: a rerun would fail again.
      if (!inEnvironmentPhase) {
        return { action: 'NOTIFY', reasons, confidence: 0.8 };
      }
    } else {
      const sameRevision = tests.flaky.filter((test) => test.passedOnSameRevision).length;
      const known = tests.flaky.filter((test) => test.known).length;
      reasons.push(
        `All ${tests.failedTests.length} failed test(s) are flaky` +
          (sameRevision > 0
            ? ` (${sameRevision} passed on this same revision).`
            : known > 0
              ? ` (${known} recorded as flaky: a rerun of the same revision passed before).`
              : ' (they flip between pass and fail).'),
      );
      confidence = Math.max(confidence, sameRevision > 0 || known > 0 ? 0.8 : 0.7);
    }
  }
  if (confidence > 0) {
    const decision: PolicyDecision = { action: 'RERUN_CLEAN', reasons, confidence };
    const larger = faultKinds.includes('out-of-memory') ? largerComputeType(input.computeType) : undefined;
    return larger
      ? { ...decision, computeTypeOverride: larger, reasons: [...reasons, `Rerun on ${larger}.`] }
      : decision;
  }
  const anomaly = input.anomaly?.anomalous ? ` It is also anomalous: ${describeAnomaly(input.anomaly)}.` : '';
  const failed = `The build ${input.status === 'TIMED_OUT' ? 'timed out' : 'failed'}${failedPhase ? ` in ${failedPhase}` : ''}`;
  if (cause?.verdict === 'code') {
    // The evidence read from the log (its code errors, the messages set aside) leads the reasons.
    return {
      action: 'NOTIFY',
      reasons: [...reasons, `${failed} on errors in the code or tests: a rerun would fail again.${anomaly}`],
      confidence: 0.8,
    };
  }
  return {
    action: 'NOTIFY',
    reasons: [
      ...(cause ? reasons : []),
      `${failed} with no sign of an environment fault or flaky tests.${anomaly}`,
    ],
    confidence: 0.6,
  };
}

/**
 * Whether the build failed on tests alone (a test report with failures, no compiler error, no environment
 * fault or phase) and every failed test without flaky evidence fails for the first time.
 */
function isFirstTestFailure(
  input: DecisionInput,
  tests: FlakyTestAnalysis,
  faultCount: number,
  inEnvironmentPhase: boolean,
): boolean {
  if (!failedOnTestsAlone(input, faultCount, inEnvironmentPhase)) return false;
  const first = new Set(tests.firstFailures);
  return tests.consistent.length > 0 && tests.consistent.every((name) => first.has(name));
}

/** A failed build (not a fault or a timeout) with no environment fault or phase and no compiler error. */
function failedOnTestsAlone(input: DecisionInput, faultCount: number, inEnvironmentPhase: boolean): boolean {
  if (input.status !== 'FAILED' || inEnvironmentPhase || faultCount > 0) return false;
  return !input.cause?.codeErrors.some((error) => matchSignature(error.line)?.category === 'compilation');
}

function decideAfterUnhealthyDeploy(input: DecisionInput, health: HealthSignal): PolicyDecision {
  const reason = `Health alarm ${health.alarmName} is in ALARM after the deployment${health.reason ? `: ${health.reason}` : ''}.`;
  if (input.target?.kind !== 'pipeline-stage') {
    return {
      action: 'NOTIFY',
      reasons: [reason, 'There is no pipeline stage to roll back.'],
      confidence: 0.7,
    };
  }
  return { action: 'ROLLBACK', reasons: [reason], confidence: 0.9 };
}

function none(reason: string): PolicyDecision {
  return { action: 'NONE', reasons: [reason], confidence: 1 };
}

function describeAnomaly(anomaly: NonNullable<DecisionInput['anomaly']>): string {
  const top = anomaly.explanation
    .slice(0, 2)
    .map(
      (contribution) =>
        `${contribution.feature} ${contribution.direction} (${Math.round(contribution.share * 100)}%)`,
    );
  return `score ${anomaly.score.toFixed(2)} over threshold ${anomaly.threshold.toFixed(2)}${top.length > 0 ? `, driven by ${top.join(', ')}` : ''}`;
}

/** Scores just over the threshold are weak evidence; twice the threshold is strong. */
function anomalyConfidence(score: number, threshold: number): number {
  if (threshold <= 0) return 0.5;
  return Math.round(Math.min(0.9, Math.max(0.5, 0.5 + 0.4 * (score / threshold - 1))) * 100) / 100;
}

function largerComputeType(computeType: string | undefined): string | undefined {
  if (computeType === undefined) return undefined;
  const index = COMPUTE_LADDER.indexOf(computeType);
  return index >= 0 && index < COMPUTE_LADDER.length - 1 ? COMPUTE_LADDER[index + 1] : undefined;
}
