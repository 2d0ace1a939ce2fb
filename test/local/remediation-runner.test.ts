import {
  alarmEvent,
  failedBuildEvent,
  failedStageEvent,
  LIMITS,
  LocalWorld,
  localWorld,
} from './remediation-fixtures';
import { GuardLimits } from '../../core/remediation/guards';
import { RemediationMode } from '../../core/remediation/remediation';
import {
  LocalTaskError,
  RemediationRunner,
  remediationDefinition,
  synthesizePipemendTemplate,
} from '../../local/remediation-runner';

const definition = remediationDefinition(synthesizePipemendTemplate({}));
const statesSeen = new Set<string>();

/** A local world whose runs also note the states they went through (statesSeen). */
function world(
  options: { mode?: RemediationMode; limits?: GuardLimits; clockStepSeconds?: number } = {},
): LocalWorld {
  const base = localWorld(definition, {
    classifyConfig: { healthAlarms: [{ pipelineName: 'app', stageName: 'Deploy', alarmName: 'app-5xx' }] },
    limits: options.limits ?? LIMITS,
    defaultMode: options.mode ?? 'enforce',
    clockStepSeconds: options.clockStepSeconds ?? 1,
  });
  return {
    ...base,
    run: async (event, stepSeconds) => {
      const execution = await base.run(event, stepSeconds);
      execution.states.forEach((state) => statesSeen.add(state));
      return execution;
    },
  };
}

describe('remediation state machine (synthesized definition, run locally)', () => {
  test('a build that failed on a registry rate limit is rerun clean, and the pass labels it an environment fault', async () => {
    const { ci, aws, local, run } = world();
    ci.addFailedBuild('app-build:b1', { revision: 'c0ffee' });

    const execution = await run(failedBuildEvent('e1', 'app-build:b1'));

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.states).toContain('RerunBuildCleanFromRevision');
    const [startBuild] = aws.callsOf('startBuild');
    expect(startBuild).toEqual({
      ProjectName: 'app-build',
      SourceVersion: 'c0ffee',
      CacheOverride: { Type: 'NO_CACHE' },
      ComputeTypeOverride: 'BUILD_GENERAL1_SMALL',
      EnvironmentVariablesOverride: [
        { Name: 'PIPEMEND_REMEDIATION_ID', Value: local.records[0]?.remediationId, Type: 'PLAINTEXT' },
      ],
    });
    expect(local.records).toHaveLength(1);
    expect(local.records[0]).toMatchObject({
      status: 'SUCCEEDED',
      detail: 'clean rerun app-build:rerun-1 succeeded',
      label: { kind: 'environment-fault', buildId: 'app-build:b1', projectName: 'app-build' },
    });
    expect(aws.callsOf('publish')).toHaveLength(1);
  });

  test('a build without a known revision is rerun from the project source', async () => {
    const { ci, aws, run } = world();
    ci.addFailedBuild('app-build:nr');
    const build = ci.builds.get('app-build:nr');
    if (build) ci.builds.set('app-build:nr', { ...build, revision: undefined });

    const execution = await run(failedBuildEvent('e-nr', 'app-build:nr'));

    expect(execution.states).toContain('RerunBuildClean');
    expect(aws.callsOf('startBuild')[0]).not.toHaveProperty('SourceVersion');
  });

  test('a build that ran out of memory is rerun on the next larger compute type', async () => {
    const { ci, aws, run } = world();
    ci.addFailedBuild('app-build:oom', {
      log: ['FATAL ERROR: Reached heap limit', 'JavaScript heap out of memory'],
    });

    await run(failedBuildEvent('e-oom', 'app-build:oom'));

    expect(aws.callsOf('startBuild')[0]).toMatchObject({ ComputeTypeOverride: 'BUILD_GENERAL1_MEDIUM' });
  });

  test('a rerun that fails again is recorded as failed, counts towards the breaker and labels nothing', async () => {
    const { ci, aws, local, run } = world();
    aws.rerunOutcome = 'FAILED';
    ci.addFailedBuild('app-build:b2');

    const execution = await run(failedBuildEvent('e2', 'app-build:b2'));

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.states).toContain('RerunFailed');
    expect(local.records[0]).toMatchObject({
      status: 'FAILED',
      detail: expect.stringContaining('rerun-1 FAILED'),
    });
    expect(local.records[0]?.label).toBeUndefined();
    expect(local.guardStore.breakers.get('project:app-build')?.consecutiveFailures).toBe(1);
    expect(aws.callsOf('publish')[0]?.Subject).toBe('Pipemend: RERUN_CLEAN of project:app-build failed');
  });

  test('a build that failed only on quarantined tests is recorded with its quarantine, and nobody is paged', async () => {
    const { ci, aws, local, run } = world();
    ci.addFailedBuild('app-build:q1', { revision: 'c0ffee', log: ['npm test', '1 failing'] });
    ci.builds.set('app-build:q1', { ...ci.builds.get('app-build:q1')!, reportArns: ['report:q1'] });
    ci.tests.set('report:q1', [{ name: 'cart debounces', outcome: 'FAILED' }]);
    // It failed on this revision before: broken, which is notified unless quarantined.
    ci.history.push({
      buildId: 'app-build:q0',
      revision: 'c0ffee',
      results: [{ name: 'cart debounces', outcome: 'FAILED' }],
    });
    local.quarantine.set('app-build', [
      {
        name: 'cart debounces',
        owner: 'team-cart',
        reason: 'timing-dependent',
        quarantinedAt: '2026-11-20T12:00:00Z',
        expiresAt: '2026-11-30T12:00:00Z',
        origin: 'manual',
      },
    ]);

    const execution = await run(failedBuildEvent('e-q1', 'app-build:q1'));

    expect(execution.states).toContain('Suppressed');
    expect(local.records[0]).toMatchObject({
      status: 'SUPPRESSED',
      classification: { quarantined: { tests: ['cart debounces'], owners: ['team-cart'] } },
    });
    expect(local.records[0]?.classification?.decision.reasons[0]).toMatch(
      /^quarantined tests only: cart debounces, owner team-cart:/,
    );
    expect(aws.callsOf('publish')).toHaveLength(0);
    expect(aws.callsOf('startBuild')).toHaveLength(0);
    expect(local.guardStore.budgets.size).toBe(0);
  });

  test('a failed pipeline stage with an environment fault is retried (FAILED_ACTIONS) and watched until it passes', async () => {
    const { ci, aws, local, run } = world();
    ci.addFailedBuild('app-test:t1', { log: ['curl: (6) Could not resolve host: github.com'] });
    ci.stageBuilds.set('app/Test/exec-1', 'app-test:t1');
    aws.watchAnswers = [
      { status: 'IN_PROGRESS', detail: 'running' },
      { status: 'SUCCEEDED', detail: 'execution exec-1 of app succeeded' },
    ];

    const execution = await run(failedStageEvent('e3', 'exec-1'));

    expect(aws.callsOf('retryStageExecution')).toEqual([
      { PipelineName: 'app', StageName: 'Test', PipelineExecutionId: 'exec-1', RetryMode: 'FAILED_ACTIONS' },
    ]);
    expect(execution.states.filter((state) => state === 'WatchRetriedExecution')).toHaveLength(2);
    expect(local.records[0]).toMatchObject({
      status: 'SUCCEEDED',
      label: { kind: 'environment-fault', buildId: 'app-test:t1' },
    });
  });

  test('an approved rollback returns the stage to the last good execution and labels the deployment bad', async () => {
    const { ci, aws, local, run } = world();
    ci.latestStage.set('app/Deploy', 'bad-exec-9');

    const execution = await run(alarmEvent('e4'));

    expect(execution.states).toEqual(
      expect.arrayContaining([
        'RequestRollbackApproval',
        'FindRollbackTarget',
        'RollbackStage',
        'WatchRollbackExecution',
      ]),
    );
    const [approval] = aws.callsOf('requestApproval');
    expect(approval?.Message).toMatchObject({
      kind: 'rollback-approval-request',
      executionArn: execution.executionArn,
      taskToken: expect.stringMatching(/^local-task-token:/),
    });
    expect(aws.callsOf('rollbackStage')).toEqual([
      { PipelineName: 'app', StageName: 'Deploy', TargetPipelineExecutionId: 'good-exec-0' },
    ]);
    expect(aws.callsOf('pipelineTarget:watch')[0]).toMatchObject({
      pipelineExecutionId: 'rollback-exec-1',
      checkHealth: true,
    });
    expect(local.records[0]).toMatchObject({
      status: 'SUCCEEDED',
      label: {
        kind: 'bad-deployment',
        pipelineName: 'app',
        stageName: 'Deploy',
        pipelineExecutionId: 'bad-exec-9',
      },
    });
  });

  test('a denied rollback is recorded as denied and nothing is rolled back', async () => {
    const { ci, aws, local, run } = world();
    ci.latestStage.set('app/Deploy', 'bad-exec-9');
    aws.approval = 'DENY';

    const execution = await run(alarmEvent('e5'));

    expect(execution.states).toContain('RollbackDenied');
    expect(aws.callsOf('rollbackStage')).toHaveLength(0);
    expect(local.records[0]).toMatchObject({ status: 'DENIED', detail: 'denied by bob' });
  });

  test('an unanswered approval times out into an escalation and nothing is rolled back', async () => {
    const { ci, aws, local, run } = world();
    ci.latestStage.set('app/Deploy', 'bad-exec-9');
    aws.approval = 'TIMEOUT';

    const execution = await run(alarmEvent('e6'));

    expect(execution.states).toContain('ApprovalTimedOut');
    expect(aws.callsOf('rollbackStage')).toHaveLength(0);
    expect(local.records[0]?.status).toBe('APPROVAL_TIMED_OUT');
    expect(aws.callsOf('publish')[0]?.Subject).toMatch(/^Pipemend: Escalation: rollback approval/);
  });

  test('a rollback whose health does not recover is recorded as failed without a label', async () => {
    const { ci, aws, local, run } = world();
    ci.latestStage.set('app/Deploy', 'bad-exec-9');
    aws.watchAnswers = [{ status: 'FAILED', detail: 'still ALARM' }];

    await run(alarmEvent('e7'));

    expect(local.records[0]).toMatchObject({ status: 'FAILED', detail: 'still ALARM' });
    expect(local.records[0]?.label).toBeUndefined();
  });

  test('once the budget for a revision is spent, the next failure escalates instead of acting', async () => {
    const { ci, aws, local, run } = world();
    ci.addFailedBuild('app-build:r1', { revision: 'same' });
    ci.addFailedBuild('app-build:r2', { revision: 'same' });

    await run(failedBuildEvent('e8', 'app-build:r1'));
    const second = await run(failedBuildEvent('e9', 'app-build:r2'));

    expect(aws.callsOf('startBuild')).toHaveLength(1);
    expect(second.states).toContain('Escalated');
    expect(local.records[1]).toMatchObject({
      status: 'ESCALATED',
      guard: { reasons: [expect.stringContaining('retry budget is exhausted'), expect.any(String)] },
    });
  });

  test('the same event delivered twice leads to one action; the second execution ends as already handled', async () => {
    const { ci, aws, local, run } = world();
    ci.addFailedBuild('app-build:d1');

    await run(failedBuildEvent('e10', 'app-build:d1'));
    const redelivered = await run(failedBuildEvent('e10', 'app-build:d1'));

    expect(redelivered.states).toContain('AlreadyHandled');
    expect(aws.callsOf('startBuild')).toHaveLength(1);
    expect(local.records).toHaveLength(1);
  });

  test('in shadow mode the decision is recorded and nothing is done or sent', async () => {
    const { ci, aws, local, run } = world({ mode: 'shadow' });
    ci.addFailedBuild('app-build:s1');

    const execution = await run(failedBuildEvent('e11', 'app-build:s1'));

    expect(execution.states).toContain('Shadowed');
    expect(aws.calls).toEqual([]);
    expect(local.records[0]).toMatchObject({
      status: 'SHADOWED',
      classification: { decision: { action: 'RERUN_CLEAN' } },
    });
  });

  test('in suggest mode the proposed action is sent to humans and not taken', async () => {
    const { ci, aws, local, run } = world({ mode: 'suggest' });
    ci.addFailedBuild('app-build:g1');

    await run(failedBuildEvent('e12', 'app-build:g1'));

    expect(aws.callsOf('startBuild')).toHaveLength(0);
    expect(local.records[0]?.status).toBe('SUGGESTED');
    expect(aws.callsOf('publish')[0]?.Subject).toBe('Pipemend: Proposed: RERUN_CLEAN for project:app-build');
  });

  test("Pipemend's own rerun failing never triggers another action", async () => {
    const { ci, aws, local, run } = world();
    ci.addFailedBuild('app-build:own');

    const execution = await run(
      failedBuildEvent('e13', 'app-build:own', {
        environmentVariables: [{ name: 'PIPEMEND_REMEDIATION_ID', value: 'r-1' }],
      }),
    );

    expect(execution.states).toContain('NothingToDo');
    expect(aws.calls).toEqual([]);
    expect(local.records).toEqual([]);
  });

  test('a failing task escalates with its cause', async () => {
    const { ci, aws, local, run } = world();
    ci.addFailedBuild('app-test:t2', { log: ['read ECONNRESET'] });
    ci.stageBuilds.set('app/Test/exec-2', 'app-test:t2');
    aws.failPipelineTarget = new LocalTaskError(
      'StageNotRetryableError',
      'Execution exec-2 is no longer the latest',
    );

    const execution = await run(failedStageEvent('e14', 'exec-2'));

    expect(execution.states).toContain('EscalateTaskFailure');
    expect(aws.callsOf('retryStageExecution')).toHaveLength(0);
    expect(local.records[0]).toMatchObject({
      status: 'ESCALATED',
      detail: 'Execution exec-2 is no longer the latest',
    });
  });

  test('a decision record that cannot be written is published raw and fails the execution visibly', async () => {
    const { ci, aws, local, runner } = world();
    ci.addFailedBuild('app-build:w1');
    const failing = new RemediationRunner(definition, {
      ...local.handlers,
      recordOutcome: () => Promise.reject(new LocalTaskError('AccessDeniedException', 'no s3:PutObject')),
    });
    void runner;

    const execution = await failing.run(failedBuildEvent('e15', 'app-build:w1'));
    execution.states.forEach((state) => statesSeen.add(state));

    expect(execution.status).toBe('FAILED');
    expect(execution.states).toContain('PublishRecordFailure');
    expect(aws.callsOf('publish')[0]?.Subject).toBe('Pipemend: a remediation could not be recorded');
  });

  test('a storm of 1,000 failing builds of one project takes no more actions than the budget and escalates once', async () => {
    const { ci, aws, local, run } = world({ clockStepSeconds: 2 });
    for (let index = 0; index < 1000; index += 1)
      ci.addFailedBuild(`app-build:storm-${index}`, { revision: `rev-${index}` });
    aws.rerunOutcome = 'FAILED';

    for (let index = 0; index < 1000; index += 1) {
      const execution = await run(failedBuildEvent(`storm-${index}`, `app-build:storm-${index}`));
      expect(execution.status).toBe('SUCCEEDED');
    }

    expect(aws.callsOf('startBuild').length).toBeLessThanOrEqual(LIMITS.maxActionsPerWindow);
    expect(local.records.filter((record) => record.status === 'ESCALATED')).toHaveLength(1);
    expect(local.records).toHaveLength(1000);
    expect(local.records.filter((record) => record.status === 'SUPPRESSED').length).toBeGreaterThan(990);
  });

  test('a storm of 1,000 failing executions of one pipeline retries no more than the budget and escalates once', async () => {
    const { ci, aws, local, run } = world({ clockStepSeconds: 2 });
    aws.watchAnswers = [{ status: 'FAILED', detail: 'the retried stage failed again' }];
    for (let index = 0; index < 1000; index += 1) {
      ci.addFailedBuild(`app-test:p${index}`, { revision: `rev-${index}`, log: ['dial tcp: i/o timeout'] });
      ci.stageBuilds.set(`app/Test/pexec-${index}`, `app-test:p${index}`);
    }

    for (let index = 0; index < 1000; index += 1) {
      expect((await run(failedStageEvent(`pstorm-${index}`, `pexec-${index}`))).status).toBe('SUCCEEDED');
    }

    expect(aws.callsOf('retryStageExecution').length).toBeLessThanOrEqual(LIMITS.maxActionsPerWindow);
    expect(local.records.filter((record) => record.status === 'ESCALATED')).toHaveLength(1);
    expect(local.records).toHaveLength(1000);
  });

  test('every Task state of the definition ran in the tests above', () => {
    const runner = new RemediationRunner(definition, world().local.handlers);
    expect(runner.taskStates.filter((state) => !statesSeen.has(state))).toEqual([]);
  });
});
