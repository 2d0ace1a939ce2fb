/**
 * The local CodeBuild, CodePipeline and CloudWatch of the replay: it answers the collector's reads from the
 * simulated builds, and answers Pipemend's actions from the simulation's ground truth. A rerun of an
 * environment fault or a flaky test passes; a rerun of a regression fails again; a rerun of a build that ran
 * out of memory passes only on a larger compute type; a rollback redeploys the last good release and the
 * deployment's health alarm returns to OK.
 */
import { BuildCondition, computeSpec, SimulatedBuild, simulateBuild } from './build';
import { toBatchGetBuildsBuild, toTestReport, toUtilizationMetrics } from './codebuild-shapes';
import { SimulatedHistory } from './history';
import { renderBuildLog } from './logs';
import { SeededRandom, seedFrom } from './random';
import { PipelineSpec } from './scenario';
import { CodeBuildBuild, CodeBuildReport, UtilizationMetric } from '../../core/collection/codebuild-build';
import { CollectorPorts } from '../../core/collection/collector';
import { REMEDIATION_MARKER_VARIABLE } from '../../core/remediation/remediation';

/** The role session CodeBuild reports as the initiator of Pipemend's reruns. */
export const REMEDIATION_INITIATOR = 'PipemendRemediationRole/pipemend-remediation';

export interface HealthAlarmState {
  readonly alarmName: string;
  readonly state: 'OK' | 'ALARM';
  readonly reason?: string;
}

export class BuildNotFoundError extends Error {
  constructor(buildId: string) {
    super(`build ${buildId} does not exist in the simulated CodeBuild`);
    this.name = 'BuildNotFoundError';
  }
}

/** CodePipeline's answer to a rollback it cannot do (a target that is not a successful execution of the stage). */
export class PipelineExecutionNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineExecutionNotFoundException';
  }
}

export class SimulatedCi {
  private readonly builds = new Map<string, SimulatedBuild>();
  private readonly buildNumbers = new Map<string, number>();
  private readonly pipelines: Map<string, PipelineSpec>;
  /** Per pipeline: when a Pipemend rollback restored health. */
  private readonly rollbacks: { pipelineName: string; at: number }[] = [];
  private readonly started: SimulatedBuild[] = [];

  constructor(readonly history: SimulatedHistory) {
    this.pipelines = new Map(history.scenario.pipelines.map((p) => [p.name, p]));
    for (const build of history.builds) {
      this.builds.set(build.buildId, build);
      this.buildNumbers.set(
        build.projectName,
        Math.max(this.buildNumbers.get(build.projectName) ?? 0, build.buildNumber),
      );
    }
  }

  build(buildId: string): SimulatedBuild | undefined {
    return this.builds.get(buildId);
  }

  /** Every build of a pipeline (or stand-alone project) that started by `at`, oldest start first. */
  buildsOf(pipelineName: string, at: Date): SimulatedBuild[] {
    const t = at.getTime();
    return [...this.builds.values()]
      .filter((b) => b.pipelineName === pipelineName && b.startTime.getTime() <= t)
      .sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  }

  /** Every build of a CodeBuild project that started by `at`, oldest start first. */
  buildsOfProject(projectName: string, at: Date): SimulatedBuild[] {
    const t = at.getTime();
    return [...this.builds.values()]
      .filter((b) => b.projectName === projectName && b.startTime.getTime() <= t)
      .sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  }

  /** The build a test report ARN belongs to. */
  buildOfReport(arn: string): SimulatedBuild | undefined {
    const streamId = arn.slice(arn.lastIndexOf(':') + 1);
    const project = arn.slice(arn.indexOf('report/') + 'report/'.length, arn.lastIndexOf('-reports:'));
    return this.builds.get(`${project}:${streamId}`);
  }

  /** The pipeline's simulated definition, or undefined for an unknown or stand-alone one. */
  pipeline(pipelineName: string): PipelineSpec | undefined {
    const spec = this.pipelines.get(pipelineName);
    return spec && !spec.standalone ? spec : undefined;
  }

  /** Builds Pipemend's actions started, in the order they were started; the replay drains this queue. */
  takeStartedBuilds(): SimulatedBuild[] {
    return this.started.splice(0, this.started.length);
  }

  /** The collector's CodeBuild and CloudWatch reads. */
  collectorPorts(): Pick<CollectorPorts, 'getBuild' | 'getReports' | 'getUtilizationMetrics'> {
    return {
      getBuild: async (buildId) => {
        const build = this.builds.get(buildId);
        return build ? (toBatchGetBuildsBuild(build) as CodeBuildBuild) : undefined;
      },
      getReports: async (arns) => {
        const wanted = new Set(arns);
        return [...this.reportsOf(arns)].filter((r) => r.arn !== undefined && wanted.has(r.arn));
      },
      getUtilizationMetrics: async (query): Promise<Partial<Record<UtilizationMetric, number[]>>> => {
        const build = this.builds.get(query.buildId);
        return build ? toUtilizationMetrics(build) : {};
      },
    };
  }

  /** The build's CloudWatch Logs text. */
  buildLog(buildId: string): string {
    const build = this.builds.get(buildId);
    if (!build) throw new BuildNotFoundError(buildId);
    return renderBuildLog(build);
  }

  /** The health alarm of a pipeline's Deploy stage at a time: ALARM while a bad release is live. */
  healthAlarm(pipelineName: string, at: Date): HealthAlarmState {
    const alarmName = `${pipelineName}-5xx-rate`;
    const t = at.getTime();
    for (const incident of this.history.incidents) {
      if (incident.spec.kind !== 'bad_deploy' || incident.spec.pipeline !== pipelineName) continue;
      if (!incident.firstFailureAt || t < incident.firstFailureAt.getTime()) continue;
      const rolledBack = this.rollbacks.some(
        (r) => r.pipelineName === pipelineName && r.at <= t && r.at >= incident.firstFailureAt!.getTime(),
      );
      if (!rolledBack && t < incident.manualRecoveryAt.getTime()) {
        return {
          alarmName,
          state: 'ALARM',
          reason: 'Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (1.0).',
        };
      }
    }
    return { alarmName, state: 'OK' };
  }

  /**
   * CodeBuild `StartBuild` (or a stage retry) of a failed build's source again, optionally on a larger compute
   * type; the outcome follows the failed build's truth.
   */
  rerun(
    buildId: string,
    options: {
      readonly computeTypeOverride?: string;
      readonly remediationId: string;
      readonly kind?: 'rerun' | 'retry';
    },
    at: Date,
  ): SimulatedBuild {
    const original = this.builds.get(buildId);
    if (!original) throw new BuildNotFoundError(buildId);
    if (options.computeTypeOverride) computeSpec(options.computeTypeOverride);
    const computeType = options.computeTypeOverride ?? original.computeType;
    const condition = this.rerunCondition(original, computeType);
    return this.start(original, condition, at, {
      computeType,
      remediation: options.kind ?? 'rerun',
      remediationId: options.remediationId,
      executionType: 'STANDARD',
    });
  }

  /** CodePipeline `RollbackStage`: redeploys the target execution's release; health returns when it succeeds. */
  rollbackStage(
    pipelineName: string,
    stageName: string,
    targetPipelineExecutionId: string,
    remediationId: string,
    at: Date,
  ): SimulatedBuild {
    const target = [...this.builds.values()].find(
      (b) =>
        b.pipelineName === pipelineName &&
        b.stageName === stageName &&
        b.executionId === targetPipelineExecutionId,
    );
    if (!target || target.status !== 'SUCCEEDED' || target.endTime.getTime() > at.getTime()) {
      throw new PipelineExecutionNotFoundError(
        `execution ${targetPipelineExecutionId} is not a successful execution of ${pipelineName}/${stageName}`,
      );
    }
    const build = this.start(target, { kind: 'normal' }, at, {
      computeType: target.computeType,
      remediation: 'rollback',
      remediationId,
      executionType: 'ROLLBACK',
    });
    this.rollbacks.push({ pipelineName, at: build.endTime.getTime() });
    return build;
  }

  /** The latest successful execution of a stage before a time (CodePipeline `ListPipelineExecutions`). */
  lastSuccessfulExecution(pipelineName: string, stageName: string, before: Date): string | undefined {
    let best: SimulatedBuild | undefined;
    for (const build of this.builds.values()) {
      if (
        build.pipelineName !== pipelineName ||
        build.stageName !== stageName ||
        build.status !== 'SUCCEEDED'
      )
        continue;
      if (build.executionType === 'ROLLBACK' || build.endTime.getTime() > before.getTime()) continue;
      if (!best || build.endTime.getTime() > best.endTime.getTime()) best = build;
    }
    return best?.executionId;
  }

  private rerunCondition(original: SimulatedBuild, computeType: string): BuildCondition {
    const { truth } = original;
    switch (truth.kind) {
      case 'regression':
        return { kind: 'regression', incidentId: truth.incidentId! };
      case 'bad_deploy':
        return { kind: 'bad_deploy', incidentId: truth.incidentId! };
      case 'resource_exhaustion': {
        // The same memory demand on a larger machine is a smaller share of its memory.
        const needed = original.utilization?.memoryMb ?? 0;
        const fits = needed / computeSpec(computeType).memoryMb < 0.9 && computeType !== original.computeType;
        return fits
          ? { kind: 'normal' }
          : { kind: 'resource_exhaustion', incidentId: truth.incidentId!, pressure: 1.05 };
      }
      default:
        return { kind: 'normal' };
    }
  }

  private start(
    original: SimulatedBuild,
    condition: BuildCondition,
    at: Date,
    options: {
      computeType: string;
      remediation: 'rerun' | 'retry' | 'rollback';
      remediationId: string;
      executionType: 'STANDARD' | 'ROLLBACK';
    },
  ): SimulatedBuild {
    const pipeline = this.pipelines.get(original.pipelineName)!;
    const buildNumber = (this.buildNumbers.get(original.projectName) ?? 0) + 1;
    this.buildNumbers.set(original.projectName, buildNumber);
    // Seeded by what is rerun and when, not by the random remediation id: a replay is reproducible.
    const rng = new SeededRandom(seedFrom(`${options.remediation}#${original.buildId}#${at.toISOString()}`));
    const rollback = options.executionType === 'ROLLBACK';
    const build = simulateBuild(
      {
        pipeline,
        stageName: original.stageName,
        buildNumber,
        // A retried stage keeps its execution; a rollback is a new execution of the pipeline.
        executionId: rollback ? rng.uuid() : original.executionId,
        executionType: options.executionType,
        sourceVersion: original.sourceVersion,
        // CodePipeline runs a retried or rolled-back stage's action; Pipemend's role starts a plain rerun.
        initiator: options.remediation === 'rerun' ? REMEDIATION_INITIATOR : `codepipeline/${pipeline.name}`,
        // Only Pipemend's own StartBuild sets the marker; CodePipeline runs retried and rolled-back actions as usual.
        environmentVariables:
          options.remediation === 'rerun'
            ? [{ name: REMEDIATION_MARKER_VARIABLE, value: options.remediationId }]
            : [],
        computeType: options.computeType,
        start: at,
        queuedSeconds: rng.logNormal(5, 0.3),
        day: (at.getTime() - this.history.start.getTime()) / 86_400_000,
        condition,
        remediation: options.remediation,
        remediationOf: original.buildId,
      },
      rng,
    );
    this.builds.set(build.buildId, build);
    this.started.push(build);
    return build;
  }

  private *reportsOf(arns: readonly string[]): Iterable<CodeBuildReport> {
    for (const arn of arns) {
      const build = this.buildOfReport(arn);
      const report = build ? toTestReport(build) : undefined;
      if (report) yield report as CodeBuildReport;
    }
  }
}
