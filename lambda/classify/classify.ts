/**
 * Classify: gathers what the decision policy needs about the failed or anomalous build (the build, its
 * log tail, its tests against the project's history, the deployment's health) through ports, and turns
 * it into a Classification. Loop prevention runs first, so Pipemend's own actions never come back here.
 */
import { Trigger } from './events';
import { BuildStatus, TERMINAL_BUILD_STATUSES } from '../../core/collection/build-record';
import { findEnvironmentFaults } from '../../core/logs/environment-faults';
import { analyseFailureCause } from '../../core/logs/failure-cause';
import {
  decideRemediation,
  DecisionInput,
  FIRST_FAILURE_RERUN_REASON,
  HealthSignal,
} from '../../core/remediation/decision-policy';
import { failureFingerprint } from '../../core/remediation/failure-fingerprint';
import {
  analyzeFlakyTests,
  FlakyTestAnalysis,
  TestCaseResult,
  TestRun,
} from '../../core/remediation/flaky-tests';
import { loopPreventionReason, TriggerOrigin } from '../../core/remediation/guards';
import { QuarantineEntry } from '../../core/remediation/quarantine';
import {
  Classification,
  RemediationTarget,
  remediationScope,
  targetClaimKey,
} from '../../core/remediation/remediation';
import { InvalidRemediationInputError } from '../remediation/errors';

/** What CodeBuild's BatchGetBuilds says about a build. */
export interface BuildFacts {
  readonly buildId: string;
  readonly buildArn?: string;
  readonly projectName: string;
  readonly status: BuildStatus | 'IN_PROGRESS';
  readonly failedPhase?: string;
  readonly computeType?: string;
  readonly revision?: string;
  readonly initiator?: string;
  readonly environmentVariables: readonly { readonly name: string; readonly value?: string }[];
  readonly logs?: { readonly groupName: string; readonly streamName: string };
  readonly reportArns: readonly string[];
  readonly endTime?: string;
}

/** A project's quarantined tests (quarantine.ts), expired entries included: the policy judges expiry. */
export interface QuarantineSource {
  /**
   * The entries of the project's quarantine file; none when there is no file. An adapter that cannot read
   * or parse the file says so in its own log and returns none: a failure is never hidden by a bad file.
   */
  quarantinedTests(projectName: string): Promise<readonly QuarantineEntry[]>;
}

export interface ClassifyPorts extends Partial<QuarantineSource> {
  getBuild(buildId: string): Promise<BuildFacts | undefined>;
  /** Every test case of the reports (capped), as PASSED/FAILED. */
  testResults(reportArns: readonly string[]): Promise<TestCaseResult[]>;
  /** The last lines of the build log. */
  logTail(logs: NonNullable<BuildFacts['logs']>): Promise<string[]>;
  /** The project's tests recorded as flaky with evidence (a rerun of the same revision passed). */
  knownFlakyTests?(projectName: string): Promise<string[]>;
  /** The project's recent test runs, oldest first, without the given build. */
  recentTestRuns(projectName: string, excludeBuildId: string): Promise<TestRun[]>;
  recordTestRun(projectName: string, run: TestRun, endTime: string): Promise<void>;
  /** The CodeBuild build behind the failed action of a stage execution, if any. */
  failedBuildOfStage(
    pipelineName: string,
    stageName: string,
    pipelineExecutionId: string,
  ): Promise<string | undefined>;
  /** The latest execution of a stage (the one an alarm judges). */
  latestStageExecution(pipelineName: string, stageName: string): Promise<string | undefined>;
  alarm(alarmName: string): Promise<HealthSignal | undefined>;
}

/** A deploying stage and the alarm that judges it. */
export interface HealthAlarmConfig {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly alarmName: string;
}

export interface ClassifyConfig {
  /** Initiator prefixes of builds Pipemend started (its remediation role). */
  readonly ownInitiatorPrefixes: readonly string[];
  readonly healthAlarms: readonly HealthAlarmConfig[];
  readonly now: () => Date;
}

interface Gathered {
  readonly target: RemediationTarget | null;
  readonly ignoreReason?: string;
  readonly status: BuildStatus;
  readonly build?: BuildFacts;
  readonly anomaly?: DecisionInput['anomaly'];
  readonly isDeployment: boolean;
  readonly health?: HealthSignal;
  readonly healthAlarmName?: string;
}

export async function classify(
  trigger: Trigger,
  ports: ClassifyPorts,
  config: ClassifyConfig,
): Promise<Classification> {
  if (
    trigger === null ||
    typeof trigger !== 'object' ||
    typeof (trigger as { kind?: unknown }).kind !== 'string'
  ) {
    throw new InvalidRemediationInputError(
      `classify needs a parsed trigger (verdict, build, stage or alarm), got ${trigger === null ? 'null' : typeof trigger}`,
    );
  }
  const gathered = await gather(trigger, ports, config);
  const build = gathered.build;
  const [logLines, tests] = await Promise.all([
    build?.logs && gathered.status !== 'SUCCEEDED' && gathered.ignoreReason === undefined
      ? ports.logTail(build.logs)
      : [],
    build ? testAnalysis(build, ports) : null,
  ]);
  const cause = logLines.length > 0 ? analyseFailureCause(logLines) : undefined;
  // Only a failure with failed tests can be one of quarantined tests: nothing is read otherwise.
  const quarantine =
    build &&
    gathered.ignoreReason === undefined &&
    gathered.status !== 'SUCCEEDED' &&
    tests &&
    tests.failedTests.length > 0 &&
    ports.quarantinedTests
      ? await ports.quarantinedTests(build.projectName)
      : undefined;
  const decision = decideRemediation({
    target: gathered.target,
    ...(gathered.ignoreReason !== undefined ? { ignoreReason: gathered.ignoreReason } : {}),
    status: gathered.status,
    ...(build?.failedPhase !== undefined ? { failedPhase: build.failedPhase } : {}),
    ...(gathered.anomaly ? { anomaly: gathered.anomaly } : {}),
    environmentFaults: findEnvironmentFaults(logLines),
    ...(cause ? { cause } : {}),
    tests,
    isDeployment: gathered.isDeployment,
    ...(gathered.health ? { health: gathered.health } : {}),
    ...(build?.computeType !== undefined ? { computeType: build.computeType } : {}),
    ...(quarantine ? { quarantine: { entries: quarantine, now: config.now() } } : {}),
  });
  const { computeTypeOverride, quarantined, ...remediationDecision } = decision;
  const computeType = computeTypeOverride ?? build?.computeType;
  const testsRerun =
    build && tests && decision.action === 'RERUN_CLEAN' && tests.failedTests.length > 0
      ? {
          projectName: build.projectName,
          failed: tests.failedTests,
          basis: tests.consistent.length > 0 ? ('first-failure' as const) : ('flaky' as const),
        }
      : undefined;
  // Only a rerun decided on the tests themselves waits for them to tell a flake from a regression.
  const testsDecided =
    testsRerun &&
    (testsRerun.basis === 'flaky' || decision.reasons[0]?.startsWith(FIRST_FAILURE_RERUN_REASON) === true);
  // The first cause line: the failing step's own environment fault or code error, else the first failed
  // test, else what drives an anomaly most, else the decision's first reason.
  const driver = gathered.anomaly?.anomalous ? gathered.anomaly.explanation[0] : undefined;
  const causeLine =
    cause?.environmentFaults[0]?.line ??
    cause?.codeErrors[0]?.line ??
    (tests?.failedTests[0] !== undefined ? `test failed: ${tests.failedTests[0]}` : undefined) ??
    (driver ? `anomalous build (${gathered.status}): ${driver.feature} ${driver.direction}` : undefined) ??
    decision.reasons[0] ??
    decision.action;
  const fingerprint =
    gathered.target && decision.action !== 'NONE'
      ? failureFingerprint(remediationScope(gathered.target), causeLine)
      : undefined;
  return {
    eventId: trigger.eventId,
    claimKey: gathered.target ? targetClaimKey(gathered.target) : `event:${trigger.eventId}`,
    target: gathered.target,
    decision: remediationDecision,
    ...(gathered.target?.kind === 'codebuild-project' && computeType !== undefined
      ? { rerun: { computeType } }
      : {}),
    ...(testsRerun && testsDecided ? { tests: testsRerun } : {}),
    ...(quarantined ? { quarantined } : {}),
    ...(fingerprint ? { fingerprint } : {}),
    ...(gathered.healthAlarmName !== undefined ? { healthAlarmName: gathered.healthAlarmName } : {}),
    classifiedAt: config.now().toISOString(),
  };
}

async function gather(trigger: Trigger, ports: ClassifyPorts, config: ClassifyConfig): Promise<Gathered> {
  switch (trigger.kind) {
    case 'verdict': {
      const { verdict } = trigger;
      const build = await ports.getBuild(verdict.buildId);
      const pipeline = verdict.pipeline ?? verdict.build.pipeline;
      const origin: TriggerOrigin = {
        ...trigger.origin,
        environmentVariables: build?.environmentVariables ?? [],
      };
      const anomaly = {
        anomalous: verdict.anomalous,
        score: verdict.score,
        threshold: verdict.threshold,
        explanation: verdict.explanation,
      };
      const revision = build?.revision ?? verdict.build.resolvedSourceVersion ?? verdict.sourceVersion;
      if (pipeline?.stageName && pipeline.executionId) {
        return {
          ...(await stageContext(pipeline.pipelineName, pipeline.stageName, ports, config)),
          target: {
            kind: 'pipeline-stage',
            pipelineName: pipeline.pipelineName,
            stageName: pipeline.stageName,
            pipelineExecutionId: pipeline.executionId,
            buildId: verdict.buildId,
            ...(revision !== undefined ? { revision } : {}),
          },
          ...ignore(origin, config),
          status: verdict.status,
          ...(build ? { build } : {}),
          anomaly,
        };
      }
      return {
        ...buildGathered(verdict.buildId, verdict.projectName, verdict.status, build, origin, config),
        anomaly,
      };
    }
    case 'build': {
      const build = await ports.getBuild(trigger.buildId);
      const origin: TriggerOrigin = {
        ...trigger.origin,
        environmentVariables: [
          ...(trigger.origin.environmentVariables ?? []),
          ...(build?.environmentVariables ?? []),
        ],
      };
      return buildGathered(
        trigger.buildId,
        trigger.projectName,
        asBuildStatus(build?.status ?? trigger.status),
        build,
        origin,
        config,
      );
    }
    case 'stage': {
      const ignoreReason = loopPreventionReason(trigger.origin, config.ownInitiatorPrefixes);
      const buildId =
        ignoreReason === undefined
          ? await ports.failedBuildOfStage(
              trigger.pipelineName,
              trigger.stageName,
              trigger.pipelineExecutionId,
            )
          : undefined;
      const build = buildId ? await ports.getBuild(buildId) : undefined;
      return {
        ...(await stageContext(trigger.pipelineName, trigger.stageName, ports, config)),
        target: {
          kind: 'pipeline-stage',
          pipelineName: trigger.pipelineName,
          stageName: trigger.stageName,
          pipelineExecutionId: trigger.pipelineExecutionId,
          ...(trigger.pipelineVersion !== undefined ? { pipelineVersion: trigger.pipelineVersion } : {}),
          ...(buildId ? { buildId } : {}),
          ...(build?.revision !== undefined ? { revision: build.revision } : {}),
        },
        ...(ignoreReason !== undefined ? { ignoreReason } : {}),
        status: trigger.state === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
        ...(build ? { build } : {}),
      };
    }
    case 'alarm': {
      const watched = config.healthAlarms.find((alarm) => alarm.alarmName === trigger.alarmName);
      if (!watched || trigger.state !== 'ALARM') {
        return {
          target: null,
          ignoreReason: `Alarm ${trigger.alarmName} is ${trigger.state}${watched ? '' : ' and judges no configured stage'}.`,
          status: 'SUCCEEDED',
          isDeployment: false,
        };
      }
      const executionId = await ports.latestStageExecution(watched.pipelineName, watched.stageName);
      const health: HealthSignal = {
        alarmName: trigger.alarmName,
        state: 'ALARM',
        ...(trigger.reason !== undefined ? { reason: trigger.reason } : {}),
      };
      return {
        target: executionId
          ? {
              kind: 'pipeline-stage',
              pipelineName: watched.pipelineName,
              stageName: watched.stageName,
              pipelineExecutionId: executionId,
            }
          : null,
        status: 'SUCCEEDED',
        isDeployment: true,
        health,
        healthAlarmName: watched.alarmName,
      };
    }
  }
}

function buildGathered(
  buildId: string,
  projectName: string,
  status: BuildStatus,
  build: BuildFacts | undefined,
  origin: TriggerOrigin,
  config: ClassifyConfig,
): Gathered {
  const initiator = origin.initiator ?? build?.initiator;
  const ignored = ignore({ ...origin, ...(initiator !== undefined ? { initiator } : {}) }, config);
  if (ignored.ignoreReason === undefined && initiator?.startsWith('codepipeline/')) {
    // The stage's own event (or the verdict with its stage) handles builds run by a pipeline.
    return {
      target: null,
      ignoreReason: `The build ran in pipeline ${initiator.slice('codepipeline/'.length)}; its stage event decides.`,
      status,
      isDeployment: false,
    };
  }
  return {
    target: {
      kind: 'codebuild-project',
      projectName,
      buildId,
      ...(build?.buildArn !== undefined ? { buildArn: build.buildArn } : {}),
      ...(build?.revision !== undefined ? { revision: build.revision } : {}),
    },
    ...ignored,
    status,
    ...(build ? { build } : {}),
    isDeployment: false,
  };
}

async function stageContext(
  pipelineName: string,
  stageName: string,
  ports: ClassifyPorts,
  config: ClassifyConfig,
): Promise<Pick<Gathered, 'isDeployment' | 'health' | 'healthAlarmName'>> {
  const watched = config.healthAlarms.find(
    (alarm) => alarm.pipelineName === pipelineName && alarm.stageName === stageName,
  );
  if (!watched) return { isDeployment: false };
  const health = await ports.alarm(watched.alarmName);
  return { isDeployment: true, ...(health ? { health } : {}), healthAlarmName: watched.alarmName };
}

function ignore(origin: TriggerOrigin, config: ClassifyConfig): { ignoreReason?: string } {
  const reason = loopPreventionReason(origin, config.ownInitiatorPrefixes);
  return reason === undefined ? {} : { ignoreReason: reason };
}

async function testAnalysis(build: BuildFacts, ports: ClassifyPorts): Promise<FlakyTestAnalysis | null> {
  if (build.reportArns.length === 0) return null;
  const results = await ports.testResults(build.reportArns);
  if (results.length === 0) return null;
  const run: TestRun = {
    buildId: build.buildId,
    ...(build.revision !== undefined ? { revision: build.revision } : {}),
    results,
  };
  const [history, knownFlaky] = await Promise.all([
    ports.recentTestRuns(build.projectName, build.buildId),
    ports.knownFlakyTests?.(build.projectName) ?? [],
  ]);
  await ports.recordTestRun(build.projectName, run, build.endTime ?? new Date().toISOString());
  return analyzeFlakyTests(run, history, { knownFlaky: new Set(knownFlaky) });
}

function asBuildStatus(status: string): BuildStatus {
  return (TERMINAL_BUILD_STATUSES as readonly string[]).includes(status) ? (status as BuildStatus) : 'FAILED';
}
