/**
 * CodePipeline stage and action state changes as data-lake records, and the link from a CodeBuild
 * action to the build it ran (so builds run by a pipeline carry their pipeline context).
 */
import { PipelineContext } from '../collection/build-record';
import { CodePipelineActionStateChange, CodePipelineStageStateChange } from '../collection/ci-events';

export interface PipelineTransition {
  readonly schemaVersion: 1;
  /** The EventBridge event id (at-least-once delivery: the same id may arrive twice). */
  readonly eventId: string;
  readonly level: 'stage' | 'action';
  readonly pipelineName: string;
  readonly executionId: string;
  readonly stageName: string;
  readonly actionName?: string;
  readonly state: string;
  /** ISO-8601 time of the event. */
  readonly time: string;
  readonly pipelineVersion?: number;
  readonly attempt?: number;
  readonly provider?: string;
  readonly category?: string;
  readonly externalExecutionId?: string;
  readonly externalExecutionUrl?: string;
  readonly externalExecutionSummary?: string;
  readonly errorCode?: string;
}

/** Where a build ran inside a pipeline; stored under the build id until the build's record is written. */
export interface PipelineLink extends PipelineContext {
  readonly buildId: string;
}

export function toPipelineTransition(
  event: CodePipelineStageStateChange | CodePipelineActionStateChange,
): PipelineTransition {
  const detail = event.detail;
  const base = {
    schemaVersion: 1 as const,
    eventId: event.id,
    pipelineName: detail.pipeline,
    executionId: detail['execution-id'],
    stageName: detail.stage,
    state: detail.state,
    time: new Date(event.time).toISOString(),
    ...defined('pipelineVersion', detail.version),
    ...defined('attempt', detail['pipeline-execution-attempt']),
  };
  if (event['detail-type'] === 'CodePipeline Stage Execution State Change') {
    return { ...base, level: 'stage' };
  }
  const action = (event as CodePipelineActionStateChange).detail;
  const result = action['execution-result'];
  return {
    ...base,
    level: 'action',
    actionName: action.action,
    provider: action.type.provider,
    category: action.type.category,
    ...defined('externalExecutionId', result?.['external-execution-id']),
    ...defined('externalExecutionUrl', result?.['external-execution-url']),
    ...defined('externalExecutionSummary', result?.['external-execution-summary']),
    ...defined('errorCode', result?.['error-code']),
  };
}

/**
 * The CodeBuild build a finished CodeBuild action ran (`external-execution-id` is `<project>:<uuid>`),
 * or `undefined` for other actions and states.
 */
export function pipelineLinkOf(transition: PipelineTransition): PipelineLink | undefined {
  if (transition.level !== 'action' || transition.provider !== 'CodeBuild') return undefined;
  if (transition.state !== 'SUCCEEDED' && transition.state !== 'FAILED') return undefined;
  const buildId = transition.externalExecutionId;
  if (!buildId || !/^[^:/]+:[^/]+$/.test(buildId)) return undefined;
  return {
    buildId,
    pipelineName: transition.pipelineName,
    stageName: transition.stageName,
    ...defined('actionName', transition.actionName),
    executionId: transition.executionId,
  };
}

/**
 * Deterministic key per pipeline execution, stage/action, state and attempt: a redelivered event
 * overwrites, a retried stage (new attempt) adds. Flat under the partition folder, so Athena reads it.
 */
export function pipelineTransitionKey(transition: PipelineTransition): string {
  const name = [
    transition.executionId,
    transition.stageName,
    transition.actionName ?? '_stage',
    transition.state,
    String(transition.attempt ?? 1),
  ]
    .map(encodeNamePart)
    .join('.');
  return `pipelines/pipeline=${encodePart(transition.pipelineName)}/date=${transition.time.slice(0, 10)}/${name}.json`;
}

export function pipelineLinkKey(buildId: string): string {
  return `pipeline-links/${encodePart(buildId)}.json`;
}

/** Names may contain anything; percent-encoding (dots included) keeps the parts of a file name apart. */
function encodeNamePart(value: string): string {
  return encodeURIComponent(value).replace(/\./g, '%2E');
}

function encodePart(value: string): string {
  return value.replace(/\//g, '%2F');
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
