/**
 * CodePipeline look-ups around a remediation: the execution a stage retry must name (GetPipelineState),
 * the execution a rollback may return to (ListPipelineExecutions, honouring RollbackStage's
 * preconditions), and the state of a retried or rolled-back execution, health alarm included.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline';

import { Classification } from '../../core/remediation/remediation';
import {
  InvalidRemediationInputError,
  RollbackNotPossibleError,
  StageNotRetryableError,
} from '../remediation/errors';

export interface PipelineClients {
  readonly codepipeline: CodePipelineClient;
  readonly cloudwatch: CloudWatchClient;
}

type StageTarget = Extract<NonNullable<Classification['target']>, { kind: 'pipeline-stage' }>;

export function stageTarget(classification: Classification): StageTarget {
  const target = classification.target;
  if (target?.kind !== 'pipeline-stage') {
    throw new InvalidRemediationInputError(
      `Expected a pipeline-stage target, got ${target ? target.kind : 'none'}`,
    );
  }
  return target;
}

/** The failed execution of the stage, which RetryStageExecution must name; it must still be the latest. */
export async function findRetryExecution(
  target: StageTarget,
  clients: PipelineClients,
): Promise<{ pipelineExecutionId: string }> {
  const state = await clients.codepipeline.send(new GetPipelineStateCommand({ name: target.pipelineName }));
  const stage = state.stageStates?.find((candidate) => candidate.stageName === target.stageName);
  const latest = stage?.latestExecution;
  if (!latest?.pipelineExecutionId) {
    throw new StageNotRetryableError(
      `Stage ${target.stageName} of ${target.pipelineName} has no execution to retry`,
    );
  }
  if (latest.pipelineExecutionId !== target.pipelineExecutionId) {
    throw new StageNotRetryableError(
      `Execution ${target.pipelineExecutionId} is no longer the latest of stage ${target.stageName} (now ${latest.pipelineExecutionId})`,
    );
  }
  if (latest.status !== 'Failed') {
    throw new StageNotRetryableError(
      `Stage ${target.stageName} of ${target.pipelineName} is ${latest.status ?? 'in an unknown state'}, not Failed`,
    );
  }
  return { pipelineExecutionId: latest.pipelineExecutionId };
}

/** How many earlier executions are inspected for one on the current pipeline version. */
const MAX_ROLLBACK_CANDIDATES = 10;

/**
 * The latest successful, non-rollback execution of the stage on the current pipeline version, other than
 * the execution being rolled back: what RollbackStage accepts as `targetPipelineExecutionId`.
 */
export async function findRollbackTarget(
  target: StageTarget,
  clients: PipelineClients,
): Promise<{ pipelineExecutionId: string; pipelineVersion: number }> {
  const { pipeline } = await clients.codepipeline.send(new GetPipelineCommand({ name: target.pipelineName }));
  const stage = pipeline?.stages?.find((candidate) => candidate.name === target.stageName);
  if (!pipeline || !stage) {
    throw new RollbackNotPossibleError(`Pipeline ${target.pipelineName} has no stage ${target.stageName}`);
  }
  if (stage.actions?.some((action) => action.actionTypeId?.category === 'Source')) {
    throw new RollbackNotPossibleError(
      `Stage ${target.stageName} is a source stage, which cannot be rolled back`,
    );
  }
  const { pipelineExecutionSummaries = [] } = await clients.codepipeline.send(
    new ListPipelineExecutionsCommand({
      pipelineName: target.pipelineName,
      filter: { succeededInStage: { stageName: target.stageName } },
      maxResults: 50,
    }),
  );
  const candidates = pipelineExecutionSummaries
    .filter(
      (summary) =>
        summary.pipelineExecutionId !== undefined &&
        summary.pipelineExecutionId !== target.pipelineExecutionId &&
        summary.executionType !== 'ROLLBACK' &&
        summary.rollbackMetadata?.rollbackTargetPipelineExecutionId === undefined,
    )
    .slice(0, MAX_ROLLBACK_CANDIDATES);
  for (const candidate of candidates) {
    const { pipelineExecution } = await clients.codepipeline.send(
      new GetPipelineExecutionCommand({
        pipelineName: target.pipelineName,
        pipelineExecutionId: candidate.pipelineExecutionId,
      }),
    );
    if (pipelineExecution?.pipelineVersion === pipeline.version && candidate.pipelineExecutionId) {
      return { pipelineExecutionId: candidate.pipelineExecutionId, pipelineVersion: pipeline.version ?? 0 };
    }
  }
  throw new RollbackNotPossibleError(
    `No earlier successful, non-rollback execution of stage ${target.stageName} on version ${pipeline.version ?? '?'} of ${target.pipelineName}`,
  );
}

export interface WatchResult {
  readonly status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
  readonly detail: string;
  readonly checks: number;
}

export interface WatchRequest {
  readonly pipelineName: string;
  readonly pipelineExecutionId: string;
  /** After a rollback: SUCCEEDED only once the health alarm is out of ALARM. */
  readonly healthAlarmName?: string;
  readonly checks: number;
  readonly maxChecks: number;
}

/** One look at a retried or rolled-back execution. */
export async function watchExecution(request: WatchRequest, clients: PipelineClients): Promise<WatchResult> {
  const checks = request.checks + 1;
  const { pipelineExecution } = await clients.codepipeline.send(
    new GetPipelineExecutionCommand({
      pipelineName: request.pipelineName,
      pipelineExecutionId: request.pipelineExecutionId,
    }),
  );
  const status = pipelineExecution?.status ?? 'Unknown';
  const what = `execution ${request.pipelineExecutionId} of ${request.pipelineName}`;
  if (status === 'InProgress' || status === 'Stopping') {
    return checks >= request.maxChecks
      ? { status: 'FAILED', detail: `${what} still ${status} after ${checks} checks`, checks }
      : { status: 'IN_PROGRESS', detail: `${what} is ${status}`, checks };
  }
  if (status !== 'Succeeded') return { status: 'FAILED', detail: `${what} ended ${status}`, checks };
  if (request.healthAlarmName === undefined)
    return { status: 'SUCCEEDED', detail: `${what} succeeded`, checks };

  // Without AlarmTypes, DescribeAlarms returns metric alarms only: a composite health alarm would be "missing".
  const { MetricAlarms = [], CompositeAlarms = [] } = await clients.cloudwatch.send(
    new DescribeAlarmsCommand({
      AlarmNames: [request.healthAlarmName],
      AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
    }),
  );
  const alarmState = (MetricAlarms[0] ?? CompositeAlarms[0])?.StateValue ?? 'missing';
  if (alarmState === 'OK') {
    return {
      status: 'SUCCEEDED',
      detail: `${what} succeeded and ${request.healthAlarmName} is OK again`,
      checks,
    };
  }
  // Metrics lag the deployment: keep looking until the alarm recovers or the checks run out.
  return checks >= request.maxChecks
    ? {
        status: 'FAILED',
        detail: `${what} succeeded but ${request.healthAlarmName} is still ${alarmState}`,
        checks,
      }
    : {
        status: 'IN_PROGRESS',
        detail: `${what} succeeded; waiting for ${request.healthAlarmName} (${alarmState})`,
        checks,
      };
}
