import { PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';

import {
  BUS,
  codePipelineMock,
  dependencies,
  ENDPOINT,
  eventBridgeMock,
  lake,
  expectOnlyCodePipelineCall,
  onlyCodePipelineCall,
  resetAws,
  sageMakerMock,
  scoresAnswer,
  storeRecord,
} from './aws-mocks';
import {
  BUILD_ARN,
  BUILD_ID,
  buildRecord,
  codePipelineJob,
  END_TIME,
  historyVectors,
  manifest,
  PROJECT,
  SECRET_ACCESS_KEY,
  SESSION_TOKEN,
} from './fixtures';
import { CURRENT_MODEL_MANIFEST_KEY } from '../../../core/scoring/model-manifest';
import { baselineThreshold } from '../../../core/scoring/scoring';
import { createScorer } from '../../../lambda/scorer/scorer-app';

const JOB_ID = '11111111-abcd-1111-abcd-111111111111';
const jobEvent = (userParameters: string | undefined): unknown => codePipelineJob(JOB_ID, userParameters);

const gate = JSON.stringify({ mode: 'gate', buildId: BUILD_ID });
const observe = JSON.stringify({ mode: 'observe', buildId: BUILD_ID });

function withModel(): void {
  lake.set(CURRENT_MODEL_MANIFEST_KEY, JSON.stringify(manifest()));
}

let logged: string;
let spies: jest.SpyInstance[];

beforeEach(() => {
  resetAws();
  storeRecord();
  logged = '';
  spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged += String(chunk);
      return true;
    }),
  );
});

afterEach(() => {
  for (const spy of spies) spy.mockRestore();
  // Whatever happened, the job's credentials never reach the logs.
  expect(logged).not.toContain(SECRET_ACCESS_KEY);
  expect(logged).not.toContain(SESSION_TOKEN);
});

describe('CodePipeline invoke action', () => {
  test('a normal build: PutJobSuccessResult with the verdict as output variables', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1.1) as never);
    const result = await createScorer(dependencies())(jobEvent(gate));
    expect(result).toEqual({ kind: 'job', jobId: JOB_ID, outcome: 'success' });
    expectOnlyCodePipelineCall(PutJobSuccessResultCommand, {
      jobId: JOB_ID,
      outputVariables: {
        verdict: 'NORMAL',
        score: '1.1',
        threshold: '2.5',
        scorer: 'endpoint',
        modelVersion: manifest().modelVersion,
      },
      executionDetails: {
        summary: expect.stringMatching(
          new RegExp(`^NORMAL: build ${BUILD_ID} scored 1.1 against threshold 2.5 \\(endpoint model `),
        ),
      },
    });
    expect(codePipelineMock).toHaveReceivedCommandWith(PutJobSuccessResultCommand, { jobId: JOB_ID });
    expect(sageMakerMock).toHaveReceivedCommandWith(InvokeEndpointCommand, {
      EndpointName: ENDPOINT,
      ContentType: 'text/csv',
      Accept: 'application/json',
    });
  });

  test('an anomaly in gate mode: PutJobFailureResult (JobFailed) naming the features that drove it', async () => {
    withModel();
    storeRecord(buildRecord({}, 2));
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(3.7) as never);
    const result = await createScorer(dependencies())(jobEvent(gate));
    expect(result).toEqual({ kind: 'job', jobId: JOB_ID, outcome: 'failure' });
    expectOnlyCodePipelineCall(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'JobFailed',
        message: expect.stringMatching(
          /^ANOMALOUS: build .* scored 3\.7 against threshold 2\.5 .*drivers: (buildSeconds|durationSeconds) high/,
        ),
        externalExecutionId: BUILD_ID,
      },
    });
  });

  test('an anomaly in observe mode: PutJobSuccessResult with verdict ANOMALOUS', async () => {
    withModel();
    storeRecord(buildRecord({}, 2));
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(3.7) as never);
    await createScorer(dependencies())(jobEvent(observe));
    const call = onlyCodePipelineCall();
    expect(call.command).toBe('PutJobSuccessResultCommand');
    expect(call.input).toMatchObject({
      jobId: JOB_ID,
      outputVariables: { verdict: 'ANOMALOUS', score: '3.7', threshold: '2.5', scorer: 'endpoint' },
    });
    expect(codePipelineMock).not.toHaveReceivedCommand(PutJobFailureResultCommand);
  });

  test('the verdict is published on the Pipemend bus whatever the mode', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(3.7) as never);
    await createScorer(dependencies())(jobEvent(observe));
    expect(eventBridgeMock).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const entry = eventBridgeMock.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({
      EventBusName: BUS,
      Source: 'pipemend',
      DetailType: 'Pipemend Build Verdict',
      Resources: [BUILD_ARN],
    });
    expect(JSON.parse(entry.Detail!)).toMatchObject({
      buildId: BUILD_ID,
      projectName: PROJECT,
      score: 3.7,
      threshold: 2.5,
      verdict: 'ANOMALOUS',
      scorer: 'endpoint',
      modelVersion: manifest().modelVersion,
      build: { buildId: BUILD_ID },
    });
  });

  test('the AnomalyScore metric is emitted as EMF with the project dimension', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1.25) as never);
    await createScorer(dependencies())(jobEvent(gate));
    const emf = logged
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ AnomalyScore: 1.25, AnomalyScoreRatio: 0.5, project: PROJECT });
    expect(JSON.stringify(emf[0])).toContain('"Namespace":"Pipemend"');
  });

  test('an endpoint error in gate mode: PutJobFailureResult (SystemUnavailable) naming the endpoint', async () => {
    withModel();
    sageMakerMock
      .on(InvokeEndpointCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await createScorer(dependencies())(jobEvent(gate));
    expectOnlyCodePipelineCall(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'SystemUnavailable',
        message: `Pipemend could not score build ${BUILD_ID}: ModelUnavailableError: InvokeEndpoint ${ENDPOINT} failed: ThrottlingException: Rate exceeded`,
        externalExecutionId: BUILD_ID,
      },
    });
    expect(eventBridgeMock).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('a malformed endpoint answer in gate mode: PutJobFailureResult (JobFailed)', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1, 2) as never);
    await createScorer(dependencies())(jobEvent(gate));
    expectOnlyCodePipelineCall(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'JobFailed',
        message: `Pipemend could not score build ${BUILD_ID}: MalformedScoreResponseError: endpoint ${ENDPOINT} returned 2 scores for 1 records`,
        externalExecutionId: BUILD_ID,
      },
    });
  });

  test('an endpoint error in observe mode: PutJobSuccessResult with verdict UNSCORED (observe never blocks)', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).rejects(new Error('connection reset'));
    await createScorer(dependencies())(jobEvent(observe));
    // The error is logged (with the build id), never the event around it (checked after each test),
    // and counted: the job was answered, so Lambda's Errors metric does not see it.
    expect(logged).toContain('"message":"scoring failed"');
    const emf = logged
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toEqual([
      expect.objectContaining({ ScoringErrors: 1, project: PROJECT, error: 'ModelUnavailableError' }),
    ]);
    expectOnlyCodePipelineCall(PutJobSuccessResultCommand, {
      jobId: JOB_ID,
      outputVariables: { verdict: 'UNSCORED', score: '', threshold: '', scorer: '', modelVersion: '' },
      executionDetails: {
        summary: `Pipemend could not score build ${BUILD_ID}: ModelUnavailableError: InvokeEndpoint ${ENDPOINT} failed: Error: connection reset`,
      },
    });
  });

  test('missing model: the cold-start baseline decides from the project history and the job succeeds', async () => {
    historyVectors(30).forEach((row, i) =>
      lake.set(
        `features/project=${PROJECT}/date=2026-11-${String(20 - (i % 5)).padStart(2, '0')}/${PROJECT}:h${i}.csv`,
        `${row.join(',')}\n`,
      ),
    );
    await createScorer(dependencies())(jobEvent(gate));
    expect(sageMakerMock).not.toHaveReceivedCommand(InvokeEndpointCommand);
    expectOnlyCodePipelineCall(PutJobSuccessResultCommand, {
      jobId: JOB_ID,
      outputVariables: {
        verdict: 'NORMAL',
        score: expect.stringMatching(/^\d/),
        // 12 observed features, a baseline of 30 builds.
        threshold: baselineThreshold(12, 30).toFixed(3),
        scorer: 'baseline',
        modelVersion: '',
      },
      executionDetails: { summary: expect.stringContaining('(baseline)') },
    });
  });

  test('missing model and an anomalous build in gate mode: the baseline scorer fails the job', async () => {
    historyVectors(30).forEach((row, i) =>
      lake.set(`features/project=${PROJECT}/date=2026-11-21/${PROJECT}:h${i}.csv`, `${row.join(',')}\n`),
    );
    storeRecord(buildRecord({}, 3));
    await createScorer(dependencies())(jobEvent(gate));
    const call = onlyCodePipelineCall();
    expect(call.command).toBe('PutJobFailureResultCommand');
    expect(call.input).toMatchObject({
      failureDetails: { type: 'JobFailed', message: expect.stringMatching(/^ANOMALOUS: .*\(baseline\)/) },
    });
  });

  test('malformed UserParameters (not JSON): PutJobFailureResult (ConfigurationError)', async () => {
    await createScorer(dependencies())(jobEvent('mode=gate'));
    expectOnlyCodePipelineCall(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'ConfigurationError',
        message: expect.stringMatching(/^UserParameters is not valid JSON \(.*\): mode=gate$/),
      },
    });
  });

  test('missing UserParameters: PutJobFailureResult (ConfigurationError) showing the expected shape', async () => {
    await createScorer(dependencies())(jobEvent(undefined));
    expectOnlyCodePipelineCall(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'ConfigurationError',
        message:
          'UserParameters is empty: expected JSON like {"mode":"gate","buildId":"#{Build.CODEBUILD_BUILD_ID}"} or {"mode":"gate","pipelineName":"<pipeline>","pipelineExecutionId":"#{codepipeline.PipelineExecutionId}","stageName":"Build"}',
      },
    });
  });

  test('an unresolved pipeline variable as buildId: ConfigurationError explaining the export', async () => {
    await createScorer(dependencies())(
      jobEvent(JSON.stringify({ mode: 'gate', buildId: '#{Build.CODEBUILD_BUILD_ID}' })),
    );
    expectOnlyCodePipelineCall(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'ConfigurationError',
        message:
          "invalid UserParameters: buildId: '#{Build.CODEBUILD_BUILD_ID}' is an unresolved pipeline variable: export CODEBUILD_BUILD_ID from the build action (buildspec env.exported-variables) and reference it from its namespace",
      },
    });
  });

  test('an unknown mode or key: ConfigurationError naming it', async () => {
    await createScorer(dependencies())(jobEvent(JSON.stringify({ mode: 'block', buildId: BUILD_ID, x: 1 })));
    const { input } = onlyCodePipelineCall() as {
      input: { failureDetails: { type: string; message: string } };
    };
    expect(input.failureDetails.type).toBe('ConfigurationError');
    expect(input.failureDetails.message).toMatch(/^invalid UserParameters: /);
    expect(input.failureDetails.message).toContain('mode');
    expect(input.failureDetails.message).toContain('"x"');
  });

  test('a build ARN is accepted as buildId', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1) as never);
    await createScorer(dependencies())(jobEvent(JSON.stringify({ mode: 'gate', buildId: BUILD_ARN })));
    expect(onlyCodePipelineCall().command).toBe('PutJobSuccessResultCommand');
  });

  test('a thrown error (no build record) in gate mode: PutJobFailureResult (JobFailed)', async () => {
    lake.clear();
    await createScorer(dependencies())(jobEvent(gate));
    expectOnlyCodePipelineCall(PutJobFailureResultCommand, {
      jobId: JOB_ID,
      failureDetails: {
        type: 'JobFailed',
        message: expect.stringMatching(
          new RegExp(
            `^Pipemend could not score build ${BUILD_ID}: BuildRecordNotFoundError: no build record for ${BUILD_ID} `,
          ),
        ),
        externalExecutionId: BUILD_ID,
      },
    });
  });

  test('a failure message longer than 5,000 characters is truncated to 5,000', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).rejects(new Error('x'.repeat(9000)));
    await createScorer(dependencies())(jobEvent(gate));
    const { input } = onlyCodePipelineCall() as { input: { failureDetails: { message: string } } };
    expect(input.failureDetails.message).toHaveLength(5000);
  });

  test('a job event without a job id cannot be answered: it throws and calls nothing', async () => {
    const event = { 'CodePipeline.job': { data: {} } };
    await expect(createScorer(dependencies())(event)).rejects.toThrow(
      /^malformed CodePipeline job event: CodePipeline\.job\.id: /,
    );
    expect(codePipelineMock.calls()).toHaveLength(0);
  });

  test('a job an earlier attempt already answered (InvalidJobStateException) is not answered again', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1) as never);
    codePipelineMock
      .on(PutJobSuccessResultCommand)
      .rejects(Object.assign(new Error('job is not in progress'), { name: 'InvalidJobStateException' }));
    await expect(createScorer(dependencies())(jobEvent(gate))).resolves.toEqual({
      kind: 'job',
      jobId: JOB_ID,
      outcome: 'success',
    });
    expect(onlyCodePipelineCall().command).toBe('PutJobSuccessResultCommand');
  });

  test('a CodePipeline outage while answering throws, so the asynchronous invocation is retried', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(1) as never);
    codePipelineMock.on(PutJobSuccessResultCommand).rejects(new Error('ServiceUnavailable'));
    await expect(createScorer(dependencies())(jobEvent(gate))).rejects.toThrow('ServiceUnavailable');
  });
});

describe('EventBridge CodeBuild Build State Change', () => {
  function stateChange(status: string): unknown {
    return {
      version: '0',
      id: 'c030038d-8c4d-6141-9545-00ff7b7153EX',
      'detail-type': 'CodeBuild Build State Change',
      source: 'aws.codebuild',
      account: '123456789012',
      time: END_TIME,
      region: 'eu-west-1',
      resources: [BUILD_ARN],
      detail: {
        'build-status': status,
        'project-name': PROJECT,
        'build-id': BUILD_ARN,
        'additional-information': { initiator: 'alice' },
      },
    };
  }

  test('a finished build is scored and its verdict published, without any CodePipeline call', async () => {
    withModel();
    sageMakerMock.on(InvokeEndpointCommand).resolves(scoresAnswer(3.7) as never);
    const result = await createScorer(dependencies())(stateChange('FAILED'));
    expect(result).toEqual({ kind: 'build', buildId: BUILD_ID, verdict: 'ANOMALOUS' });
    expect(eventBridgeMock).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    expect(codePipelineMock.calls()).toHaveLength(0);
  });

  test('an in-progress build is ignored', async () => {
    const result = await createScorer(dependencies())(stateChange('IN_PROGRESS'));
    expect(result).toMatchObject({ kind: 'ignored' });
    expect(eventBridgeMock).not.toHaveReceivedCommand(PutEventsCommand);
  });

  test('a malformed event is rejected with what was wrong (and goes to the DLQ after retries)', async () => {
    const event = stateChange('SUCCEEDED') as { detail: Record<string, unknown> };
    event.detail['build-id'] = 'not-an-arn';
    await expect(createScorer(dependencies())(event)).rejects.toThrow(
      'malformed CodeBuild Build State Change event: detail.build-id: must be a CodeBuild build ARN',
    );
  });

  test('a build whose record never arrives throws, so EventBridge retries and then dead-letters it', async () => {
    lake.clear();
    await expect(createScorer(dependencies())(stateChange('SUCCEEDED'))).rejects.toThrow(
      `no build record for ${BUILD_ID}`,
    );
  });

  test('an event of another kind is refused', async () => {
    await expect(createScorer(dependencies())({ hello: 'world' })).rejects.toThrow(
      'unsupported event: expected a CodePipeline job ("CodePipeline.job") or a "CodeBuild Build State Change", got keys ["hello"]',
    );
  });
});
