/**
 * The AWS side of remediation in the replay, answered from the simulation at the replay's clock: the
 * classifier's look-ups (BatchGetBuilds, test reports, CloudWatch Logs, the health alarm), the CodePipeline
 * and CloudWatch API calls of the pipeline-target code (GetPipelineState, GetPipeline,
 * ListPipelineExecutions, GetPipelineExecution, DescribeAlarms), and the state machine's service
 * integrations (CodeBuild StartBuild.sync, CodePipeline RetryStageExecution and RollbackStage, SNS).
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CodePipelineClient } from '@aws-sdk/client-codepipeline';

import { TestCaseResult, TestRun } from '../../core/remediation/flaky-tests';
import { REMEDIATION_MARKER_VARIABLE } from '../../core/remediation/remediation';
import { BuildFacts, ClassifyPorts } from '../../lambda/classify/classify';
import { PipelineClients } from '../../lambda/pipeline-target/pipeline-target';
import { LocalTaskError, RemediationTaskHandlers } from '../remediation-runner';
import { SimulatedBuild, watchedTestNames } from '../simulation/build';
import { logGroupName, logStreamName, reportArn } from '../simulation/codebuild-shapes';
import { SimulatedCi } from '../simulation/simulated-ci';

/** How many log lines the classifier reads from the end of a log, as the classify Lambda does. */
const LOG_TAIL_LINES = 200;
/** Test runs of the project's history the flaky-test analysis sees. */
const TEST_HISTORY_RUNS = 20;
/** The state machine's poll interval: each watch check moves the replay's clock on by it. */
const POLL_INTERVAL_MS = 60_000;
const PIPELINE_VERSION = 3;

/** The replay's clock during one remediation: starts at the verdict, moves with builds and polls. */
export class ReplayClock {
  private time: number;

  constructor(start: Date) {
    this.time = start.getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  set(at: Date): void {
    this.time = at.getTime();
  }

  advanceTo(at: Date): void {
    this.time = Math.max(this.time, at.getTime());
  }

  advance(ms: number): void {
    this.time += ms;
  }
}

export interface SimulatedAwsCalls {
  notifications: { subject: string; message: unknown }[];
  approvals: number;
  apiCalls: number;
}

/** The classifier's ports on the simulated CodeBuild, CloudWatch Logs and CloudWatch alarms. */
export function simulatedClassifyPorts(ci: SimulatedCi, clock: ReplayClock): ClassifyPorts {
  return {
    getBuild: async (buildId) => {
      const build = ci.build(buildId);
      return build ? buildFacts(build, clock.now()) : undefined;
    },
    testResults: async (arns) =>
      arns.flatMap((arn) => {
        const build = ci.buildOfReport(arn);
        return build ? testResultsOf(build) : [];
      }),
    logTail: async (logs) => {
      const build = ci.build(
        `${logs.groupName.slice(logs.groupName.lastIndexOf('/') + 1)}:${logs.streamName}`,
      );
      return build ? ci.buildLog(build.buildId).trimEnd().split('\n').slice(-LOG_TAIL_LINES) : [];
    },
    recentTestRuns: async (projectName, excludeBuildId) => {
      const t = clock.now().getTime();
      return ci
        .buildsOfProject(projectName, clock.now())
        .filter((b) => b.buildId !== excludeBuildId && b.endTime.getTime() <= t && b.tests)
        .slice(-TEST_HISTORY_RUNS)
        .map((b): TestRun => ({ buildId: b.buildId, revision: b.sourceVersion, results: testResultsOf(b) }));
    },
    // The simulation already holds every build's test report: recording runs again would only duplicate them.
    recordTestRun: async () => undefined,
    failedBuildOfStage: async (pipelineName, stageName, executionId) =>
      ci
        .buildsOf(pipelineName, clock.now())
        .filter((b) => b.stageName === stageName && b.executionId === executionId && b.status !== 'SUCCEEDED')
        .at(-1)?.buildId,
    latestStageExecution: async (pipelineName, stageName) =>
      ci
        .buildsOf(pipelineName, clock.now())
        .filter((b) => b.stageName === stageName)
        .at(-1)?.executionId,
    alarm: async (alarmName) => {
      const pipelineName = alarmName.replace(/-5xx-rate$/, '');
      const alarm = ci.healthAlarm(pipelineName, clock.now());
      return { alarmName, state: alarm.state, ...(alarm.reason ? { reason: alarm.reason } : {}) };
    },
  };
}

/** CodePipeline and CloudWatch clients for the pipeline-target code, answered from the simulation. */
export function simulatedPipelineClients(
  ci: SimulatedCi,
  clock: ReplayClock,
  calls: SimulatedAwsCalls,
): PipelineClients {
  const codepipeline = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.apiCalls++;
      const input = command.input;
      const pipelineName = String(input.name ?? input.pipelineName);
      const spec = ci.pipeline(pipelineName);
      if (!spec)
        throw Object.assign(new Error(`Pipeline ${pipelineName} not found`), {
          name: 'PipelineNotFoundException',
        });
      const builds = ci.buildsOf(pipelineName, clock.now());
      switch (command.constructor.name) {
        case 'GetPipelineStateCommand':
          return {
            pipelineName,
            pipelineVersion: PIPELINE_VERSION,
            stageStates: (['Build', 'Deploy'] as const).map((stageName) => {
              const latest = builds.filter((b) => b.stageName === stageName).at(-1);
              return {
                stageName,
                ...(latest
                  ? {
                      latestExecution: {
                        pipelineExecutionId: latest.executionId,
                        status: stageStatus(latest, clock.now()),
                      },
                    }
                  : {}),
              };
            }),
          };
        case 'GetPipelineCommand':
          return {
            pipeline: {
              name: pipelineName,
              version: PIPELINE_VERSION,
              stages: [
                {
                  name: 'Source',
                  actions: [
                    {
                      name: 'Source',
                      actionTypeId: {
                        category: 'Source',
                        owner: 'AWS',
                        provider: 'CodeStarSourceConnection',
                        version: '1',
                      },
                    },
                  ],
                },
                {
                  name: 'Build',
                  actions: [
                    {
                      name: 'BuildAndTest',
                      actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
                    },
                  ],
                },
                {
                  name: 'Deploy',
                  actions: [
                    {
                      name: 'DeployAndVerify',
                      actionTypeId: { category: 'Test', owner: 'AWS', provider: 'CodeBuild', version: '1' },
                    },
                  ],
                },
              ],
            },
          };
        case 'ListPipelineExecutionsCommand': {
          const filter = input.filter as { succeededInStage?: { stageName?: string } } | undefined;
          const stageName = filter?.succeededInStage?.stageName;
          const now = clock.now().getTime();
          const succeeded = builds
            .filter(
              (b) =>
                (!stageName || b.stageName === stageName) &&
                b.status === 'SUCCEEDED' &&
                b.endTime.getTime() <= now,
            )
            .reverse();
          return {
            pipelineExecutionSummaries: succeeded.slice(0, Number(input.maxResults ?? 50)).map((b) => ({
              pipelineExecutionId: b.executionId,
              status: 'Succeeded',
              executionType: b.executionType,
              startTime: b.startTime,
            })),
          };
        }
        case 'GetPipelineExecutionCommand': {
          const executionId = String(input.pipelineExecutionId);
          const latest = builds.filter((b) => b.executionId === executionId).at(-1);
          if (!latest) {
            throw Object.assign(new Error(`Execution ${executionId} not found`), {
              name: 'PipelineExecutionNotFoundException',
            });
          }
          return {
            pipelineExecution: {
              pipelineName,
              pipelineExecutionId: executionId,
              pipelineVersion: PIPELINE_VERSION,
              status: stageStatus(latest, clock.now()),
              executionType: latest.executionType,
            },
          };
        }
        default:
          throw new Error(`the simulated CodePipeline does not answer ${command.constructor.name}`);
      }
    },
  };
  const cloudwatch = {
    send: async (command: { constructor: { name: string }; input: { AlarmNames?: string[] } }) => {
      calls.apiCalls++;
      if (command.constructor.name !== 'DescribeAlarmsCommand') {
        throw new Error(`the simulated CloudWatch does not answer ${command.constructor.name}`);
      }
      return {
        MetricAlarms: (command.input.AlarmNames ?? []).map((alarmName) => ({
          AlarmName: alarmName,
          StateValue: ci.healthAlarm(alarmName.replace(/-5xx-rate$/, ''), clock.now()).state,
        })),
      };
    },
  };
  return {
    codepipeline: codepipeline as unknown as CodePipelineClient,
    cloudwatch: cloudwatch as unknown as CloudWatchClient,
  };
}

/** The state machine's AWS service integrations, acting on the simulation. */
export function simulatedActions(
  ci: SimulatedCi,
  clock: ReplayClock,
  calls: SimulatedAwsCalls,
  pipelineTarget: RemediationTaskHandlers['pipelineTarget'],
): Pick<
  RemediationTaskHandlers,
  'startBuild' | 'retryStageExecution' | 'rollbackStage' | 'publish' | 'requestApproval' | 'pipelineTarget'
> {
  return {
    // `codebuild:startBuild.sync`: the task ends when the build does, so the clock moves to its end.
    startBuild: async (input) => {
      calls.apiCalls++;
      const projectName = String(input.ProjectName);
      const sourceVersion = input.SourceVersion === undefined ? undefined : String(input.SourceVersion);
      const marker = (
        input.EnvironmentVariablesOverride as { Name: string; Value: string }[] | undefined
      )?.find((variable) => variable.Name === REMEDIATION_MARKER_VARIABLE);
      const original = latestFailedBuild(ci, projectName, sourceVersion, clock.now());
      if (!original)
        throw new LocalTaskError('CodeBuild.InvalidInputException', `no build of ${projectName} to rerun`);
      const rerun = ci.rerun(
        original.buildId,
        {
          remediationId: marker?.Value ?? 'unmarked',
          ...(input.ComputeTypeOverride ? { computeTypeOverride: String(input.ComputeTypeOverride) } : {}),
        },
        clock.now(),
      );
      clock.advanceTo(rerun.endTime);
      if (rerun.status !== 'SUCCEEDED') {
        throw new LocalTaskError(
          'States.TaskFailed',
          `Build ${rerun.buildId} ${rerun.status} in ${rerun.failedPhase ?? 'an unknown phase'}`,
        );
      }
      return { Build: { Id: rerun.buildId, Arn: rerun.buildArn, BuildStatus: rerun.status } };
    },
    retryStageExecution: async (input) => {
      calls.apiCalls++;
      const failed = ci
        .buildsOf(String(input.PipelineName), clock.now())
        .filter(
          (b) =>
            b.stageName === input.StageName &&
            b.executionId === input.PipelineExecutionId &&
            b.status !== 'SUCCEEDED',
        )
        .at(-1);
      if (!failed)
        throw new LocalTaskError(
          'CodePipeline.StageNotRetryableException',
          'the stage has no failed action to retry',
        );
      ci.rerun(failed.buildId, { remediationId: 'stage-retry', kind: 'retry' }, clock.now());
      return { PipelineExecutionId: failed.executionId };
    },
    rollbackStage: async (input) => {
      calls.apiCalls++;
      try {
        const rollback = ci.rollbackStage(
          String(input.PipelineName),
          String(input.StageName),
          String(input.TargetPipelineExecutionId),
          'rollback',
          clock.now(),
        );
        return { PipelineExecutionId: rollback.executionId };
      } catch (error) {
        throw new LocalTaskError(`CodePipeline.${(error as Error).name}`, (error as Error).message);
      }
    },
    publish: async (input) => {
      calls.notifications.push({ subject: input.Subject ?? '', message: input.Message });
      return { MessageId: `simulated-${calls.notifications.length}` };
    },
    // The replay stands in for the approver: every rollback request is approved as soon as it arrives.
    requestApproval: async (input) => {
      calls.approvals++;
      calls.notifications.push({ subject: input.Subject ?? '', message: input.Message });
      return { approved: true, by: 'replay' };
    },
    pipelineTarget: async (input) => {
      if (input.operation === 'watch') clock.advance(POLL_INTERVAL_MS);
      return pipelineTarget(input);
    },
  };
}

function buildFacts(build: SimulatedBuild, at: Date): BuildFacts {
  const finished = build.endTime.getTime() <= at.getTime();
  return {
    buildId: build.buildId,
    buildArn: build.buildArn,
    projectName: build.projectName,
    status: finished ? build.status : 'IN_PROGRESS',
    ...(build.failedPhase ? { failedPhase: build.failedPhase } : {}),
    computeType: build.computeType,
    revision: build.sourceVersion,
    initiator: build.initiator,
    environmentVariables: build.environmentVariables,
    logs: { groupName: logGroupName(build), streamName: logStreamName(build) },
    reportArns: build.tests ? [reportArn(build)] : [],
    ...(finished ? { endTime: build.endTime.toISOString() } : {}),
  };
}

/** The build's failing test cases, and the project's watched tests (flaky and regression-prone) that passed. */
function testResultsOf(build: SimulatedBuild): TestCaseResult[] {
  if (!build.tests) return [];
  const failing = new Set(build.tests.failing);
  const passed = watchedTestNames(build.toolchain).filter((name) => !failing.has(name));
  return [
    ...[...failing].map((name): TestCaseResult => ({ name, outcome: 'FAILED' })),
    ...passed.map((name): TestCaseResult => ({ name, outcome: 'PASSED' })),
  ];
}

function stageStatus(build: SimulatedBuild, at: Date): 'InProgress' | 'Succeeded' | 'Failed' {
  if (build.endTime.getTime() > at.getTime()) return 'InProgress';
  return build.status === 'SUCCEEDED' ? 'Succeeded' : 'Failed';
}

function latestFailedBuild(
  ci: SimulatedCi,
  projectName: string,
  sourceVersion: string | undefined,
  at: Date,
): SimulatedBuild | undefined {
  return ci
    .buildsOfProject(projectName, at)
    .filter(
      (b) =>
        b.status !== 'SUCCEEDED' &&
        b.endTime.getTime() <= at.getTime() &&
        (sourceVersion === undefined || b.sourceVersion === sourceVersion),
    )
    .at(-1);
}
