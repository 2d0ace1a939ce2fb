/**
 * Fault matrix on the synthesized remediation state machine, run locally: whatever task fails, however it
 * fails (an error, a timeout, throttling past the retries), the execution ends with a decision record and
 * a notification; when even the notification fails, the execution fails (into a Fail state, which the
 * ExecutionsFailed metric counts) with the record saved; when the record itself cannot be written, the
 * failure is published and the execution fails.
 */
import {
  alarmEvent,
  failedBuildEvent,
  failedStageEvent,
  FakeAws,
  FakeCi,
  LIMITS,
} from './remediation-fixtures';
import { createLocalRemediation, LocalRemediation } from '../../local/remediation-local-handlers';
import {
  LocalExecution,
  LocalTaskError,
  RemediationRunner,
  RemediationTaskHandlers,
  remediationDefinition,
  synthesizePipemendTemplate,
} from '../../local/remediation-runner';

const definition = remediationDefinition(synthesizePipemendTemplate({}));
const RECORD_FAILURE_SUBJECT = 'Pipemend: a remediation could not be recorded';

/** Retrier attempts of a Lambda task for an error, from the definition (so the test follows the retries). */
function retriesOf(state: string, error: string): number {
  const retriers = (definition.States[state] as { Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] })
    .Retry;
  const retrier = (retriers ?? []).find((candidate) => candidate.ErrorEquals.includes(error));
  return retrier ? (retrier.MaxAttempts ?? 3) : 0;
}

type Scenario = 'build' | 'stage' | 'rollback';

interface Faulted {
  readonly ci: FakeCi;
  readonly aws: FakeAws;
  readonly local: LocalRemediation;
  readonly execution: LocalExecution;
  /** Calls of the faulted handler. */
  readonly attempts: number;
}

/** Runs one scenario with `handler` replaced by one that fails as `fault` says (always, or the first n times). */
async function runWithFault(
  scenario: Scenario,
  handler: keyof RemediationTaskHandlers | undefined,
  fault: LocalTaskError | undefined,
  options: {
    failTimes?: number;
    onlyOperation?: string;
    prepare?: (world: { ci: FakeCi; aws: FakeAws }) => void;
    /** A second handler that always fails. */
    alsoFailing?: { handler: keyof RemediationTaskHandlers; fault: LocalTaskError };
  } = {},
): Promise<Faulted> {
  const ci = new FakeCi();
  const aws = new FakeAws();
  const local = createLocalRemediation({
    classifyPorts: ci,
    classifyConfig: { healthAlarms: [{ pipelineName: 'app', stageName: 'Deploy', alarmName: 'app-5xx' }] },
    limits: LIMITS,
    defaultMode: 'enforce',
    now: () => new Date('2026-11-21T12:00:00Z'),
    actions: aws.actions,
  });
  let attempts = 0;
  const handlers: RemediationTaskHandlers = { ...local.handlers };
  if (handler && fault) {
    const original = handlers[handler] as (input: Record<string, unknown>) => Promise<unknown>;
    (handlers as unknown as Record<string, unknown>)[handler] = (input: Record<string, unknown>) => {
      if (options.onlyOperation !== undefined && input.operation !== options.onlyOperation) {
        return original(input);
      }
      attempts += 1;
      if (attempts <= (options.failTimes ?? Number.POSITIVE_INFINITY)) return Promise.reject(fault);
      return original(input);
    };
  }
  if (options.alsoFailing) {
    const { fault: second } = options.alsoFailing;
    (handlers as unknown as Record<string, unknown>)[options.alsoFailing.handler] = () =>
      Promise.reject(second);
  }
  let event: Record<string, unknown>;
  switch (scenario) {
    case 'build':
      ci.addFailedBuild('app-build:b1', { revision: 'c0ffee' });
      event = failedBuildEvent('e-build', 'app-build:b1');
      break;
    case 'stage':
      ci.addFailedBuild('app-test:t1', { log: ['curl: (6) Could not resolve host: github.com'] });
      ci.stageBuilds.set('app/Test/exec-1', 'app-test:t1');
      event = failedStageEvent('e-stage', 'exec-1');
      break;
    case 'rollback':
      ci.latestStage.set('app/Deploy', 'bad-exec-9');
      event = alarmEvent('e-alarm');
      break;
  }
  options.prepare?.({ ci, aws });
  const execution = await new RemediationRunner(definition, handlers).run(event);
  return { ci, aws, local, execution, attempts };
}

/** The invariant: the execution succeeded, one decision record was saved and one notification published. */
function expectRecordedAndNotified(
  { execution, local, aws }: Faulted,
  expected: { status: string; detail?: string | RegExp; errorName?: string },
): void {
  expect({ status: execution.status, error: execution.error }).toEqual({
    status: 'SUCCEEDED',
    error: undefined,
  });
  expect(local.records).toHaveLength(1);
  const [record] = local.records;
  expect(record?.status).toBe(expected.status);
  if (typeof expected.detail === 'string') expect(record?.detail).toBe(expected.detail);
  if (expected.detail instanceof RegExp) expect(record?.detail).toMatch(expected.detail);
  if (expected.errorName) expect(record?.error?.error).toBe(expected.errorName);
  const published = aws.callsOf('publish');
  expect(published).toHaveLength(1);
  expect(published[0]?.Subject).not.toBe(RECORD_FAILURE_SUBJECT);
  expect(String(published[0]?.Message)).toContain(record?.remediationId);
}

const throwing = new LocalTaskError(
  'Lambda.Unknown',
  'Unhandled: TypeError: cannot read properties of undefined',
);
const timingOut = new LocalTaskError('States.Timeout', 'Task timed out after 120 seconds');
const throttled = new LocalTaskError('Lambda.TooManyRequestsException', 'Rate Exceeded.');

describe('remediation fault matrix (synthesized definition, run locally)', () => {
  describe.each([
    ['throwing', throwing],
    ['timing out', timingOut],
    ['throttled past the retries', throttled],
  ])('a Lambda task %s', (_, fault) => {
    test('Classify: recorded from the event alone (no classification, no guard) and notified', async () => {
      const faulted = await runWithFault('build', 'classify', fault);

      expectRecordedAndNotified(faulted, {
        status: 'ESCALATED',
        detail: fault.message,
        errorName: fault.name,
      });
      expect(faulted.local.records[0]).toMatchObject({
        classification: null,
        guard: null,
        eventId: 'e-build',
        remediationId: expect.stringMatching(/^execution-local-/),
      });
      expect(faulted.execution.states).not.toContain('Guard');
    });

    test('Guard: recorded with the classification, without a guard result, and notified', async () => {
      const faulted = await runWithFault('build', 'guard', fault);

      expectRecordedAndNotified(faulted, {
        status: 'ESCALATED',
        detail: fault.message,
        errorName: fault.name,
      });
      expect(faulted.local.records[0]).toMatchObject({
        classification: { decision: { action: 'RERUN_CLEAN' } },
        guard: null,
        scope: 'project:app-build',
      });
      expect(faulted.aws.callsOf('startBuild')).toHaveLength(0);
    });

    test.each([
      ['stage', 'retry-execution'],
      ['stage', 'watch'],
      ['rollback', 'rollback-target'],
      ['rollback', 'watch'],
    ] as const)('PipelineTarget (%s, %s): escalated, recorded and notified', async (scenario, operation) => {
      const faulted = await runWithFault(scenario, 'pipelineTarget', fault, { onlyOperation: operation });

      expectRecordedAndNotified(faulted, {
        status: 'ESCALATED',
        detail: fault.message,
        errorName: fault.name,
      });
    });

    test('RecordOutcome: the failure is published and the execution fails visibly', async () => {
      const faulted = await runWithFault('build', 'recordOutcome', fault);

      expect(faulted.execution.status).toBe('FAILED');
      expect(faulted.execution.states.slice(-2)).toEqual(['PublishRecordFailure', 'RecordFailed']);
      const [published] = faulted.aws.callsOf('publish');
      expect(published?.Subject).toBe(RECORD_FAILURE_SUBJECT);
      expect(published?.Message).toMatchObject({
        kind: 'record-failure',
        outcome: { status: 'SUCCEEDED' },
        recordError: { Error: fault.name, Cause: fault.message },
      });
    });
  });

  test.each([
    ['Classify', 'classify'],
    ['Guard', 'guard'],
    ['RecordOutcome', 'recordOutcome'],
  ] as const)(
    '%s throttled by Lambda (Lambda.TooManyRequestsException) is retried before it is given up',
    async (state, handler) => {
      const faulted = await runWithFault('build', handler, throttled);

      expect(retriesOf(state, 'Lambda.TooManyRequestsException')).toBeGreaterThan(0);
      expect(faulted.attempts).toBe(1 + retriesOf(state, 'Lambda.TooManyRequestsException'));
    },
  );

  test('a Lambda throttled once is retried and the remediation goes on as if nothing happened', async () => {
    const faulted = await runWithFault('build', 'classify', throttled, { failTimes: 1 });

    expectRecordedAndNotified(faulted, { status: 'SUCCEEDED' });
    expect(faulted.attempts).toBe(2);
  });

  test('a record step throttled once records the failed rerun once, and the breaker counts it once', async () => {
    const faulted = await runWithFault('build', 'recordOutcome', throttled, {
      failTimes: 1,
      prepare: ({ aws }) => {
        aws.rerunOutcome = 'FAILED';
      },
    });

    expectRecordedAndNotified(faulted, { status: 'FAILED' });
    expect(faulted.local.guardStore.breakers.get('project:app-build')?.consecutiveFailures).toBe(1);
  });

  test('the record-outcome Lambda run twice for one result (its save failed after the breaker update) counts it once', async () => {
    const ci = new FakeCi();
    const aws = new FakeAws();
    const local = createLocalRemediation({
      classifyPorts: ci,
      limits: LIMITS,
      defaultMode: 'enforce',
      actions: aws.actions,
    });
    ci.addFailedBuild('app-build:b9');
    const classification = await local.handlers.classify({ event: failedBuildEvent('e9', 'app-build:b9') });
    const guard = await local.handlers.guard({ classification, executionId: 'exec-9' });
    const report = { classification, guard, status: 'FAILED', detail: 'clean rerun failed' };

    await local.handlers.recordOutcome(report);
    await local.handlers.recordOutcome(report);

    expect(local.guardStore.breakers.get('project:app-build')?.consecutiveFailures).toBe(1);
  });

  describe('CodeBuild StartBuild', () => {
    test('a rerun that ran and failed is recorded FAILED, counts for the breaker and is notified', async () => {
      const faulted = await runWithFault(
        'build',
        'startBuild',
        new LocalTaskError('States.TaskFailed', 'Build FAILED'),
      );

      expectRecordedAndNotified(faulted, { status: 'FAILED', detail: 'clean rerun failed: Build FAILED' });
      expect(faulted.local.guardStore.breakers.get('project:app-build')?.consecutiveFailures).toBe(1);
    });

    test.each([
      ['CodeBuild.AccountLimitExceededException', 'Cannot have more than 20 builds in queue for the account'],
      ['CodeBuild.AWSCodeBuildException', 'Rate exceeded (Service: AWSCodeBuild; Status Code: 400)'],
      ['CodeBuild.CodeBuildException', 'Rate exceeded'],
    ])(
      'a rerun that never started (%s past the retries) is escalated and does not count for the breaker',
      async (name, cause) => {
        const faulted = await runWithFault('build', 'startBuild', new LocalTaskError(name, cause));

        expect(faulted.attempts).toBe(1 + retriesOf('RerunBuildCleanFromRevision', name));
        expect(faulted.attempts).toBeGreaterThan(1);
        expectRecordedAndNotified(faulted, {
          status: 'ESCALATED',
          detail: `the clean rerun did not start: ${cause}`,
          errorName: name,
        });
        expect(faulted.local.guardStore.breakers.get('project:app-build')?.consecutiveFailures ?? 0).toBe(0);
      },
    );

    test('a rerun refused for its parameters (the project is gone) is escalated and does not count', async () => {
      const faulted = await runWithFault(
        'build',
        'startBuild',
        new LocalTaskError('CodeBuild.ResourceNotFoundException', 'Project cannot be found'),
      );

      expect(faulted.attempts).toBe(1);
      expectRecordedAndNotified(faulted, { status: 'ESCALATED' });
      expect(faulted.local.guardStore.breakers.get('project:app-build')?.consecutiveFailures ?? 0).toBe(0);
    });
  });

  describe.each([
    [
      'RetryStageExecution',
      'retryStageExecution',
      'stage',
      'RetryStage',
      'CodePipeline.StageNotRetryableException',
    ],
    [
      'RollbackStage',
      'rollbackStage',
      'rollback',
      'RollbackStage',
      'CodePipeline.PipelineExecutionOutdatedException',
    ],
  ] as const)('CodePipeline %s', (_, handler, scenario, state, refusal) => {
    test('refused: escalated, recorded and notified', async () => {
      const faulted = await runWithFault(scenario, handler, new LocalTaskError(refusal, 'refused'));

      expect(faulted.attempts).toBe(1);
      expectRecordedAndNotified(faulted, { status: 'ESCALATED', detail: 'refused', errorName: refusal });
    });

    test('throttled (CodePipeline.CodePipelineException) past the retries: retried, then escalated and notified', async () => {
      const name = 'CodePipeline.CodePipelineException';
      const faulted = await runWithFault(scenario, handler, new LocalTaskError(name, 'Rate exceeded'));

      expect(faulted.attempts).toBe(1 + retriesOf(state, name));
      expect(faulted.attempts).toBeGreaterThan(1);
      expectRecordedAndNotified(faulted, { status: 'ESCALATED', errorName: name });
    });

    test('a busy pipeline that frees up within the retries is acted on', async () => {
      const faulted = await runWithFault(
        scenario,
        handler,
        new LocalTaskError('CodePipeline.ConflictException', 'pipeline busy'),
        { failTimes: 1 },
      );

      expectRecordedAndNotified(faulted, { status: 'SUCCEEDED' });
    });
  });

  test('GetPipelineState failing inside the classifier (throttled) ends recorded and notified', async () => {
    const throttling = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const faulted = await runWithFault('rollback', undefined, undefined, {
      prepare: ({ ci }) => {
        ci.latestStageExecution = () => Promise.reject(throttling);
      },
    });

    expectRecordedAndNotified(faulted, {
      status: 'ESCALATED',
      detail: 'Rate exceeded',
      errorName: 'ThrottlingException',
    });
    expect(faulted.local.records[0]?.classification).toBeNull();
  });

  describe('the approval', () => {
    test('timing out is recorded as APPROVAL_TIMED_OUT and notified; nothing is rolled back', async () => {
      const faulted = await runWithFault('rollback', undefined, undefined, {
        prepare: ({ aws }) => {
          aws.approval = 'TIMEOUT';
        },
      });

      expectRecordedAndNotified(faulted, { status: 'APPROVAL_TIMED_OUT' });
      expect(faulted.aws.callsOf('rollbackStage')).toHaveLength(0);
    });

    test('denied is recorded as DENIED and notified; nothing is rolled back', async () => {
      const faulted = await runWithFault('rollback', undefined, undefined, {
        prepare: ({ aws }) => {
          aws.approval = 'DENY';
        },
      });

      expectRecordedAndNotified(faulted, { status: 'DENIED', detail: 'denied by bob' });
      expect(faulted.aws.callsOf('rollbackStage')).toHaveLength(0);
    });

    test('a request that cannot be published is escalated, recorded and notified', async () => {
      const faulted = await runWithFault(
        'rollback',
        'requestApproval',
        new LocalTaskError('SNS.AuthorizationErrorException', 'not allowed to publish'),
      );

      expectRecordedAndNotified(faulted, {
        status: 'ESCALATED',
        errorName: 'SNS.AuthorizationErrorException',
      });
      expect(faulted.aws.callsOf('rollbackStage')).toHaveLength(0);
    });
  });

  describe('the final SNS publish failing', () => {
    test.each([
      ['SNS.AuthorizationErrorException', 'not allowed', 1],
      [
        'SNS.ThrottledException',
        'Rate exceeded',
        1 + retriesOf('PublishNotification', 'SNS.ThrottledException'),
      ],
    ])(
      '%s: the record is saved and the execution fails (ExecutionsFailed counts it)',
      async (name, cause, calls) => {
        const faulted = await runWithFault('build', 'publish', new LocalTaskError(name, cause));

        expect(faulted.local.records).toHaveLength(1);
        expect(faulted.local.records[0]?.status).toBe('SUCCEEDED');
        expect(faulted.attempts).toBe(calls);
        expect(faulted.execution.status).toBe('FAILED');
        expect(faulted.execution.states.at(-1)).toBe('NotificationFailed');
        expect(faulted.execution.error?.message).toContain(cause);
      },
    );

    test('after a task failure too: the escalation is saved and the execution fails', async () => {
      const faulted = await runWithFault('build', 'classify', throwing, {
        alsoFailing: { handler: 'publish', fault: new LocalTaskError('SNS.NotFoundException', 'no topic') },
      });

      expect(faulted.execution.status).toBe('FAILED');
      expect(faulted.execution.states.at(-1)).toBe('NotificationFailed');
      expect(faulted.local.records).toHaveLength(1);
      expect(faulted.local.records[0]).toMatchObject({ status: 'ESCALATED', classification: null });
    });
  });
});
