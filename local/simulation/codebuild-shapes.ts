/**
 * The simulated builds as AWS shows them: the EventBridge `CodeBuild Build State Change` event, the
 * `BatchGetBuilds` build, the `BatchGetReports` test report and the `AWS/CodeBuild` utilisation metrics,
 * so that the collector runs on the same shapes in the replay as in AWS.
 */
import { Build, BuildPhase, ComputeType, Report } from '@aws-sdk/client-codebuild';

import { SIMULATED_ACCOUNT, SIMULATED_REGION, SimulatedBuild } from './build';
import { UtilizationMetric } from '../../core/collection/codebuild-build';

export interface CodeBuildStateChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'CodeBuild Build State Change';
  readonly source: 'aws.codebuild';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: {
    readonly 'build-status': 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';
    readonly 'project-name': string;
    readonly 'build-id': string;
    readonly 'current-phase': string;
    readonly 'current-phase-context': string;
    readonly version: string;
    readonly 'additional-information': Record<string, unknown>;
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** CodeBuild's `build-start-time` format in events, e.g. `Sep 1, 2017 4:12:29 PM` (not ISO). */
export function codeBuildEventTime(date: Date): string {
  const month = MONTHS[date.getUTCMonth()]!;
  const hours = date.getUTCHours();
  const h12 = hours % 12 === 0 ? 12 : hours % 12;
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  const ss = String(date.getUTCSeconds()).padStart(2, '0');
  return `${month} ${date.getUTCDate()}, ${date.getUTCFullYear()} ${h12}:${mm}:${ss} ${hours < 12 ? 'AM' : 'PM'}`;
}

export function logGroupName(build: SimulatedBuild): string {
  return `/aws/codebuild/${build.projectName}`;
}

export function logStreamName(build: SimulatedBuild): string {
  return build.buildId.slice(build.projectName.length + 1);
}

export function reportArn(build: SimulatedBuild): string {
  return `arn:aws:codebuild:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:report/${build.projectName}-reports:${logStreamName(build)}`;
}

/** The terminal state-change event EventBridge delivers when the build finishes. */
export function toStateChangeEvent(build: SimulatedBuild): CodeBuildStateChangeEvent {
  return {
    version: '0',
    id: `evt-${logStreamName(build)}`,
    'detail-type': 'CodeBuild Build State Change',
    source: 'aws.codebuild',
    account: SIMULATED_ACCOUNT,
    time: build.endTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: SIMULATED_REGION,
    resources: [build.buildArn],
    detail: {
      'build-status': build.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
      'project-name': build.projectName,
      'build-id': build.buildArn,
      'current-phase': 'COMPLETED',
      'current-phase-context': '[]',
      version: '1',
      'additional-information': {
        'build-complete': true,
        initiator: build.initiator,
        'build-start-time': codeBuildEventTime(build.startTime),
        'source-version': build.sourceVersion,
        'timeout-in-minutes': 60,
        'queued-timeout-in-minutes': 480,
        'build-number': build.buildNumber,
        environment: {
          image: build.image,
          'privileged-mode': false,
          'compute-type': build.computeType,
          type: 'LINUX_CONTAINER',
          'environment-variables': build.environmentVariables.map((v) => ({ ...v, type: 'PLAINTEXT' })),
        },
        source: { type: 'CODEPIPELINE', buildspec: 'buildspec.yml' },
        logs: {
          'group-name': logGroupName(build),
          'stream-name': logStreamName(build),
          'deep-link': `https://console.aws.amazon.com/cloudwatch/home?region=${SIMULATED_REGION}#logEvent:group=${logGroupName(build)};stream=${logStreamName(build)}`,
        },
        phases: build.phases.map((phase) => ({
          'phase-context': phase.context ? [`${phase.context.statusCode}: ${phase.context.message}`] : [],
          'start-time': codeBuildEventTime(phase.start),
          ...(phase.end ? { 'end-time': codeBuildEventTime(phase.end) } : {}),
          ...(phase.seconds !== undefined ? { 'duration-in-seconds': phase.seconds } : {}),
          'phase-type': phase.type,
          ...(phase.status ? { 'phase-status': phase.status } : {}),
        })),
      },
    },
  };
}

/** The build as `BatchGetBuilds` returns it. */
export function toBatchGetBuildsBuild(build: SimulatedBuild): Build {
  return {
    id: build.buildId,
    arn: build.buildArn,
    buildNumber: build.buildNumber,
    startTime: build.startTime,
    endTime: build.endTime,
    currentPhase: 'COMPLETED',
    buildStatus: build.status,
    sourceVersion: build.sourceVersion,
    resolvedSourceVersion: build.sourceVersion,
    projectName: build.projectName,
    phases: build.phases.map((phase): BuildPhase => ({
      phaseType: phase.type,
      ...(phase.status ? { phaseStatus: phase.status } : {}),
      startTime: phase.start,
      ...(phase.end ? { endTime: phase.end } : {}),
      ...(phase.seconds !== undefined ? { durationInSeconds: phase.seconds } : {}),
      ...(phase.context ? { contexts: [{ ...phase.context }] } : {}),
    })),
    source: { type: 'CODEPIPELINE', buildspec: 'buildspec.yml' },
    environment: {
      type: 'LINUX_CONTAINER',
      image: build.image,
      computeType: build.computeType as ComputeType,
    },
    logs: {
      groupName: logGroupName(build),
      streamName: logStreamName(build),
      deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${SIMULATED_REGION}#logEvent:group=${logGroupName(build)};stream=${logStreamName(build)}`,
    },
    timeoutInMinutes: 60,
    queuedTimeoutInMinutes: 480,
    buildComplete: true,
    initiator: build.initiator,
    ...(build.tests ? { reportArns: [reportArn(build)] } : {}),
  };
}

/** The build's test report as `BatchGetReports` returns it; `undefined` when the build produced none. */
export function toTestReport(build: SimulatedBuild): Report | undefined {
  if (!build.tests) return undefined;
  const { total, failed, error, skipped, durationSeconds } = build.tests;
  return {
    arn: reportArn(build),
    type: 'TEST',
    name: logStreamName(build),
    reportGroupArn: `arn:aws:codebuild:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:report-group/${build.projectName}-reports`,
    executionId: build.buildArn,
    status: failed + error > 0 ? 'FAILED' : 'SUCCEEDED',
    created: build.endTime,
    testSummary: {
      total,
      statusCounts: {
        SUCCEEDED: total - failed - error - skipped,
        FAILED: failed,
        ERROR: error,
        SKIPPED: skipped,
      },
      durationInNanoSeconds: durationSeconds * 1e9,
    },
  };
}

/**
 * `AWS/CodeBuild` utilisation datapoints of the build (dimensions BuildId, BuildNumber, ProjectName), one per
 * minute as CloudWatch reports them: they rise to the build's peak.
 */
export function toUtilizationMetrics(build: SimulatedBuild): Partial<Record<UtilizationMetric, number[]>> {
  if (!build.utilization) return {};
  const minutes = Math.max(
    1,
    Math.min(30, Math.round((build.endTime.getTime() - build.startTime.getTime()) / 60_000)),
  );
  const ramp = (peak: number) =>
    Array.from({ length: minutes }, (_, i) => Math.round(peak * (0.6 + (0.4 * (i + 1)) / minutes) * 10) / 10);
  return {
    CPUUtilized: ramp(build.utilization.cpuUnits),
    CPUUtilizedPercent: ramp(build.utilization.cpuPercent),
    MemoryUtilized: ramp(build.utilization.memoryMb),
    MemoryUtilizedPercent: ramp(build.utilization.memoryPercent),
  };
}

/** The CodePipeline action event that reports the CodeBuild action's result (and links the build to its stage). */
export function toActionStateChangeEvent(build: SimulatedBuild): Record<string, unknown> {
  return {
    version: '0',
    id: `act-${logStreamName(build)}`,
    'detail-type': 'CodePipeline Action Execution State Change',
    source: 'aws.codepipeline',
    account: SIMULATED_ACCOUNT,
    time: build.endTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: SIMULATED_REGION,
    resources: [`arn:aws:codepipeline:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:${build.pipelineName}`],
    detail: {
      pipeline: build.pipelineName,
      'execution-id': build.executionId,
      'start-time': build.startTime.toISOString(),
      stage: build.stageName,
      action: build.stageName === 'Build' ? 'BuildAndTest' : 'DeployAndVerify',
      state: build.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
      region: SIMULATED_REGION,
      'execution-result': {
        'external-execution-id': build.buildId,
        'external-execution-url': `https://console.aws.amazon.com/codebuild/home?region=${SIMULATED_REGION}#/builds/${build.buildId}/view/new`,
        ...(build.status === 'SUCCEEDED'
          ? {}
          : {
              'external-execution-summary': 'Build terminated with state: FAILED',
              'error-code': 'JobFailed',
            }),
      },
      type: {
        owner: 'AWS',
        provider: 'CodeBuild',
        category: build.stageName === 'Build' ? 'Build' : 'Test',
        version: '1',
      },
      version: 3,
      'pipeline-execution-attempt': 1,
    },
  };
}
