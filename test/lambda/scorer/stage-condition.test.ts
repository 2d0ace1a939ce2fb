/**
 * The scorer as a CodePipeline V2 stage-condition `LambdaInvoke` rule: it is handed a job naming the
 * pipeline execution and the stage, finds the stage's CodeBuild build with ListActionExecutions, and answers
 * the job exactly once — whatever goes wrong.
 */
import {
  ActionExecutionDetail,
  ListActionExecutionsCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';

import {
  codePipelineMock,
  dependencies,
  lake,
  resetAws,
  sageMakerMock,
  scoresAnswer,
  storeRecord,
} from './aws-mocks';
import { BUILD_ID, buildRecord, codePipelineJob, manifest, PROJECT } from './fixtures';
import { CURRENT_MODEL_MANIFEST_KEY } from '../../../core/scoring/model-manifest';
import { createScorer } from '../../../lambda/scorer/scorer-app';

const JOB_ID = '22222222-abcd-2222-abcd-222222222222';
const PIPELINE = 'app-pipeline';
const EXECUTION = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const OLD_BUILD = `${PROJECT}:00000000-aaaa-4bbb-8ccc-dddddddddddd`;

const ruleJob = (parameters: Record<string, unknown>): unknown =>
  codePipelineJob(JOB_ID, JSON.stringify(parameters));

const rule = {
  mode: 'gate',
  pipelineName: PIPELINE,
  pipelineExecutionId: EXECUTION,
  stageName: 'Build',
  invokedBy: 'rule',
};

function execution(
  stageName: string,
  actionName: string,
  provider: string,
  buildId: string | undefined,
  startTime: string,
  category = 'Build',
): ActionExecutionDetail {
  return {
    pipelineExecutionId: EXECUTION,
    actionExecutionId: `${actionName}-${startTime}`,
    stageName,
    actionName,
    startTime: new Date(startTime),
    status: 'Succeeded',
    input: { actionTypeId: { category: category as 'Build', owner: 'AWS', provider, version: '1' } },
    output: buildId ? { executionResult: { externalExecutionId: buildId } } : {},
  };
}

const source = execution('Source', 'Source', 'S3', 'v1', '2026-11-21T19:50:00Z', 'Source');
const build = execution('Build', 'Build', 'CodeBuild', BUILD_ID, '2026-11-21T19:55:00Z');

function withModel(): void {
  lake.set(CURRENT_MODEL_MANIFEST_KEY, JSON.stringify(manifest()));
}

function answers(): { command: string; input: unknown }[] {
  return codePipelineMock
    .calls()
    .map((call) => ({ command: call.args[0].constructor.name, input: call.args[0].input }))
    .filter((call) => call.command !== 'ListActionExecutionsCommand');
}

/** Exactly one answer to the job, and it is this one. */
function expectOnlyAnswer(
  command: typeof PutJobSuccessResultCommand | typeof PutJobFailureResultCommand,
  input: Record<string, unknown>,
): void {
  expect(codePipelineMock).toHaveReceivedCommandWith(
    command as typeof PutJobSuccessResultCommand,
    input as never,
  );
  expect(answers()).toEqual([{ command: command.name, input }]);
}

let spies: jest.SpyInstance[];

beforeEach(() => {
  resetAws();
  storeRecord();
  spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation(() => true),
  );
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});

describe('stage-condition rule: finding the build from the pipeline execution', () => {
  test('a normal build: the rule passes (PutJobSuccessResult, no output variables: rules have no namespace)', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1.1) as never);
    codePipelineMock.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [source, build] });
    const result = await createScorer(dependencies())(ruleJob(rule));
    expect(result).toEqual({ kind: 'job', jobId: JOB_ID, outcome: 'success' });
    expect(codePipelineMock).toHaveReceivedCommandWith(ListActionExecutionsCommand, {
      pipelineName: PIPELINE,
      filter: { pipelineExecutionId: EXECUTION },
    });
    expectOnlyAnswer(PutJobSuccessResultCommand, {
      jobId: JOB_ID,
      executionDetails: {
        summary: expect.stringMatching(
          new RegExp(`^NORMAL: build ${BUILD_ID} scored 1.1 against threshold 2.5`),
        ),
      },
    });
  });

  test('an anomalous build in gate mode: the rule fails (PutJobFailureResult JobFailed) so the condition result applies', async () => {
    withModel();
    storeRecord(buildRecord({}, 2));
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(3.7) as never);
    codePipelineMock.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [source, build] });
    const result = await createScorer(dependencies())(ruleJob(rule));
    expect(result).toEqual({ kind: 'job', jobId: JOB_ID, outcome: 'failure' });
    expectOnlyAnswer(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'JobFailed',
        message: expect.stringMatching(/^ANOMALOUS: build .* scored 3\.7 against threshold 2\.5/),
        externalExecutionId: BUILD_ID,
      },
    });
  });

  test('every page is read, and of a retried CodeBuild action the newest attempt is scored', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1) as never);
    const lambdaAction = execution('Build', 'Notify', 'Lambda', 'req-1', '2026-11-21T19:58:00Z', 'Invoke');
    const firstAttempt = execution('Build', 'Build', 'CodeBuild', OLD_BUILD, '2026-11-21T19:40:00Z');
    codePipelineMock
      .on(ListActionExecutionsCommand)
      .resolvesOnce({ actionExecutionDetails: [source, firstAttempt], nextToken: 'page-2' })
      .resolvesOnce({ actionExecutionDetails: [build, lambdaAction] });
    await createScorer(dependencies())(ruleJob(rule));
    expect(codePipelineMock).toHaveReceivedCommandTimes(ListActionExecutionsCommand, 2);
    expect(codePipelineMock).toHaveReceivedNthSpecificCommandWith(2, ListActionExecutionsCommand, {
      pipelineName: PIPELINE,
      filter: { pipelineExecutionId: EXECUTION },
      nextToken: 'page-2',
    });
    // Only the newest attempt's record exists: scoring OLD_BUILD would have failed the rule.
    expectOnlyAnswer(PutJobSuccessResultCommand, {
      jobId: JOB_ID,
      executionDetails: { summary: expect.stringContaining(`build ${BUILD_ID} scored`) },
    });
  });

  test('several CodeBuild actions in the stage: actionName picks one, without it the rule fails naming them', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1) as never);
    const tests = execution('Build', 'Test', 'CodeBuild', OLD_BUILD, '2026-11-21T19:56:00Z', 'Test');
    codePipelineMock.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [build, tests] });

    await createScorer(dependencies())(ruleJob(rule));
    expectOnlyAnswer(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'ConfigurationError',
        message: `Pipemend could not find the build to score in stage 'Build' of pipeline '${PIPELINE}' (execution ${EXECUTION}): StageBuildNotFoundError: 2 CodeBuild actions ran in stage 'Build' of execution ${EXECUTION} of pipeline '${PIPELINE}' (Build, Test): set actionName to pick the build to score`,
      },
    });

    codePipelineMock.resetHistory();
    await createScorer(dependencies())(ruleJob({ ...rule, actionName: 'Build' }));
    expect(answers()).toEqual([{ command: 'PutJobSuccessResultCommand', input: expect.anything() }]);
  });

  test('an explicit buildId wins: no lookup at all', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1) as never);
    await createScorer(dependencies())(ruleJob({ ...rule, buildId: BUILD_ID }));
    expect(codePipelineMock).not.toHaveReceivedCommand(ListActionExecutionsCommand);
    expect(answers()).toEqual([{ command: 'PutJobSuccessResultCommand', input: expect.anything() }]);
  });
});

describe('stage-condition rule: every failure still answers the job', () => {
  test('no CodeBuild action in the stage: ConfigurationError saying so', async () => {
    codePipelineMock.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [source] });
    await createScorer(dependencies())(ruleJob(rule));
    expectOnlyAnswer(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'ConfigurationError',
        message: `Pipemend could not find the build to score in stage 'Build' of pipeline '${PIPELINE}' (execution ${EXECUTION}): StageBuildNotFoundError: no CodeBuild action ran in stage 'Build' of execution ${EXECUTION} of pipeline '${PIPELINE}'`,
      },
    });
  });

  test('throttled lookup: SystemUnavailable, asking for a retry of the stage', async () => {
    codePipelineMock
      .on(ListActionExecutionsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    const result = await createScorer(dependencies())(ruleJob(rule));
    expect(result).toEqual({ kind: 'job', jobId: JOB_ID, outcome: 'failure' });
    expectOnlyAnswer(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'SystemUnavailable',
        message: `Pipemend could not find the build to score in stage 'Build' of pipeline '${PIPELINE}' (execution ${EXECUTION}): ThrottlingException: Rate exceeded (CodePipeline throttled the lookup; retry the stage)`,
      },
    });
  });

  test('missing codepipeline:ListActionExecutions permission: PermissionError naming the permission', async () => {
    codePipelineMock
      .on(ListActionExecutionsCommand)
      .rejects(
        Object.assign(
          new Error(
            'User: arn:aws:sts::123456789012:assumed-role/scorer is not authorized to perform: codepipeline:ListActionExecutions',
          ),
          { name: 'AccessDeniedException', $metadata: {} },
        ),
      );
    await createScorer(dependencies())(ruleJob(rule));
    expectOnlyAnswer(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'PermissionError',
        message: expect.stringContaining(
          "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/scorer is not authorized to perform: codepipeline:ListActionExecutions (the scorer's role needs codepipeline:ListActionExecutions on this pipeline: add it to Pipemend's watched pipelines)",
        ),
      },
    });
  });

  test('observe mode never blocks: a failed lookup still passes the rule, unscored', async () => {
    codePipelineMock.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [] });
    await createScorer(dependencies())(ruleJob({ ...rule, mode: 'observe' }));
    expectOnlyAnswer(PutJobSuccessResultCommand, {
      jobId: JOB_ID,
      executionDetails: {
        summary: expect.stringMatching(
          /^Pipemend could not find the build to score .*no CodeBuild action ran/,
        ),
      },
    });
  });

  test('a CodeBuild action without a build id yet: ConfigurationError with its status', async () => {
    codePipelineMock.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        {
          ...execution('Build', 'Build', 'CodeBuild', undefined, '2026-11-21T19:55:00Z'),
          status: 'InProgress',
        },
      ],
    });
    await createScorer(dependencies())(ruleJob(rule));
    expectOnlyAnswer(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'ConfigurationError',
        message: expect.stringContaining("CodeBuild action 'Build' in stage 'Build'"),
      },
    });
    expect(answers()[0]!.input).toMatchObject({
      failureDetails: { message: expect.stringContaining('has no build id yet (status InProgress)') },
    });
  });

  test('an unresolved #{codepipeline.PipelineExecutionId}: ConfigurationError, no lookup', async () => {
    await createScorer(dependencies())(
      ruleJob({ ...rule, pipelineExecutionId: '#{codepipeline.PipelineExecutionId}' }),
    );
    expect(codePipelineMock).not.toHaveReceivedCommand(ListActionExecutionsCommand);
    expectOnlyAnswer(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'ConfigurationError',
        message:
          "invalid UserParameters: pipelineExecutionId: '#{codepipeline.PipelineExecutionId}' is an unresolved pipeline variable",
      },
    });
  });

  test('neither a buildId nor where the build ran: ConfigurationError saying what is needed', async () => {
    await createScorer(dependencies())(ruleJob({ mode: 'gate', pipelineName: PIPELINE, invokedBy: 'rule' }));
    expectOnlyAnswer(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'ConfigurationError',
        message:
          'invalid UserParameters: (root): name the build to score: either buildId, or pipelineName, pipelineExecutionId and stageName (where the CodeBuild action ran)',
      },
    });
  });

  test('the V1 invoke action still gets its output variables when it names the build by execution', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1) as never);
    codePipelineMock.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [build] });
    const action = { ...rule, invokedBy: 'action' };
    await createScorer(dependencies())(ruleJob(action));
    expect(answers()).toEqual([
      {
        command: 'PutJobSuccessResultCommand',
        input: expect.objectContaining({
          outputVariables: expect.objectContaining({ verdict: 'NORMAL' }),
        }),
      },
    ]);
  });
});
