import { parseCiEvent } from '../../../core/collection/ci-events';
import {
  pipelineLinkKey,
  pipelineLinkOf,
  pipelineTransitionKey,
  toPipelineTransition,
} from '../../../core/remediation/pipeline-transition';
import { sampleEvent } from '../../helpers/sample-events';

function transitionOf(event: Record<string, unknown>) {
  const parsed = parseCiEvent(event);
  if (!parsed.ok || parsed.value.kind === 'build') throw new Error('expected a pipeline event');
  return toPipelineTransition(parsed.value.event);
}

test('an action transition carries the execution result of the action', () => {
  expect(transitionOf(sampleEvent('05-codepipeline-action-succeeded'))).toEqual({
    schemaVersion: 1,
    eventId: 'ae4d7f5a-6b8c-4d9e-8f0a-1b2c3d4e5f05',
    level: 'action',
    pipelineName: 'web-pipeline',
    executionId: '3f9a2c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c',
    stageName: 'Build',
    actionName: 'BuildAndTest',
    state: 'SUCCEEDED',
    time: '2026-11-20T11:33:09.000Z',
    pipelineVersion: 4,
    attempt: 1,
    provider: 'CodeBuild',
    category: 'Build',
    externalExecutionId: 'web-build:c41f8e2a-0d6b-4c79-8e13-2a5b9f7d1c33',
    externalExecutionUrl: expect.stringContaining('/builds/web-build:c41f8e2a'),
  });
});

test('a failed CodeBuild action still links its build', () => {
  const event = sampleEvent('05-codepipeline-action-succeeded');
  event.detail.state = 'FAILED';
  expect(pipelineLinkOf(transitionOf(event))).toEqual({
    buildId: 'web-build:c41f8e2a-0d6b-4c79-8e13-2a5b9f7d1c33',
    pipelineName: 'web-pipeline',
    stageName: 'Build',
    actionName: 'BuildAndTest',
    executionId: '3f9a2c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c',
  });
});

test('an external execution id that is not a build id links nothing', () => {
  const event = sampleEvent('05-codepipeline-action-succeeded');
  (event.detail['execution-result'] as Record<string, unknown>)['external-execution-id'] = 'not-a-build';
  expect(pipelineLinkOf(transitionOf(event))).toBeUndefined();
});

test('stage, action and state names with dots or slashes cannot collide in the key', () => {
  const base = transitionOf(sampleEvent('05-codepipeline-action-succeeded'));
  const dotted = pipelineTransitionKey({ ...base, stageName: 'Build.Test', actionName: 'Unit' });
  const split = pipelineTransitionKey({ ...base, stageName: 'Build', actionName: 'Test.Unit' });
  expect(dotted).not.toBe(split);
  expect(pipelineTransitionKey({ ...base, actionName: 'a/b' })).toBe(
    'pipelines/pipeline=web-pipeline/date=2026-11-20/3f9a2c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c.Build.a%2Fb.SUCCEEDED.1.json',
  );
});

test('a retried stage (next attempt) gets its own key', () => {
  const base = transitionOf(sampleEvent('06-codepipeline-stage-succeeded'));
  expect(pipelineTransitionKey({ ...base, attempt: 2 })).not.toBe(pipelineTransitionKey(base));
});

test('the link key is per build id', () => {
  expect(pipelineLinkKey('web-build:c41f')).toBe('pipeline-links/web-build:c41f.json');
});
