import * as awsMocks from './aws-mocks';
import { BUILD_ID, END_TIME, manifest } from './fixtures';
import { CURRENT_MODEL_MANIFEST_KEY } from '../../../core/scoring/model-manifest';

type Handler = (event: unknown) => Promise<unknown>;

const ENV = {
  DATA_LAKE_BUCKET: 'pipemend-data-lake',
  EVENT_BUS_NAME: 'pipemend-bus',
  MODEL_KIND: 'embedded',
  RECORD_WAIT_ATTEMPTS: '1',
};

/**
 * Fresh copies of the handler and of the mocks (the isolated registry has its own SDK classes to mock):
 * the handler builds its scorer from the environment on first use.
 */
function loadHandler(env: Record<string, string>): { handler: Handler; aws: typeof awsMocks } {
  for (const key of [
    'DATA_LAKE_BUCKET',
    'EVENT_BUS_NAME',
    'MODEL_KIND',
    'ENDPOINT_NAME',
    'RECORD_WAIT_ATTEMPTS',
    'TREND_SETTINGS',
  ]) {
    delete process.env[key];
  }
  Object.assign(process.env, env);
  let loaded: { handler: Handler; aws: typeof awsMocks } | undefined;
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const aws = require('./aws-mocks') as typeof awsMocks;
    aws.resetAws();
    const { handler } = require('../../../lambda/scorer/handler') as { handler: Handler };
    /* eslint-enable @typescript-eslint/no-require-imports */
    loaded = { handler, aws };
  });
  return loaded!;
}

const job = {
  'CodePipeline.job': {
    id: 'job-1',
    data: {
      actionConfiguration: {
        configuration: { UserParameters: JSON.stringify({ mode: 'gate', buildId: BUILD_ID }) },
      },
    },
  },
};

/** Every timer stays real; only the clock the handler reads is set to just after the fixture build ended. */
const REAL_TIMERS = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;

beforeEach(() => {
  jest.useFakeTimers({ now: new Date(Date.parse(END_TIME) + 5_000), doNotFake: [...REAL_TIMERS] });
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('scorer handler wiring', () => {
  test('configured from the environment, it answers a job before any model exists (cold start)', async () => {
    const { handler, aws } = loadHandler(ENV);
    aws.storeRecord();
    await expect(handler(job)).resolves.toEqual({ kind: 'job', jobId: 'job-1', outcome: 'success' });
    // The isolated registry has its own command classes: compare the calls' inputs.
    const [answer] = aws.codePipelineMock.calls();
    expect(answer?.args[0].constructor.name).toBe('PutJobSuccessResultCommand');
    expect(answer?.args[0].input).toMatchObject({ jobId: 'job-1', outputVariables: { scorer: 'baseline' } });
    const [published] = aws.eventBridgeMock.calls();
    expect(published?.args[0].input).toMatchObject({ Entries: [{ EventBusName: 'pipemend-bus' }] });
  });

  test('a missing variable fails the invocation naming it', async () => {
    const withoutBucket: Record<string, string> = { ...ENV };
    delete withoutBucket.DATA_LAKE_BUCKET;
    await expect(loadHandler(withoutBucket).handler(job)).rejects.toThrow(
      'Environment variable DATA_LAKE_BUCKET is required but not set',
    );
  });

  test('the endpoint scorer needs ENDPOINT_NAME', async () => {
    const { handler, aws } = loadHandler({ ...ENV, MODEL_KIND: 'endpoint' });
    aws.lake.set(CURRENT_MODEL_MANIFEST_KEY, JSON.stringify(manifest()));
    await expect(handler(job)).rejects.toThrow('Environment variable ENDPOINT_NAME is required but not set');
  });

  test('TREND_SETTINGS that are not JSON fail the invocation naming the variable', async () => {
    await expect(loadHandler({ ...ENV, TREND_SETTINGS: '{features' }).handler(job)).rejects.toThrow(
      /^Environment variable TREND_SETTINGS is not JSON: /,
    );
  });

  test('an invalid trend setting fails the invocation naming the variable and the field', async () => {
    await expect(loadHandler({ ...ENV, TREND_SETTINGS: '{"minZ":1}' }).handler(job)).rejects.toThrow(
      'Environment variable TREND_SETTINGS: minZ: Too small: expected number to be >=2',
    );
  });

  test('valid TREND_SETTINGS configure the scorer, which answers the job', async () => {
    const { handler, aws } = loadHandler({ ...ENV, TREND_SETTINGS: '{"features":["buildSeconds"]}' });
    aws.storeRecord();
    await expect(handler(job)).resolves.toEqual({ kind: 'job', jobId: 'job-1', outcome: 'success' });
  });

  test('an unknown MODEL_KIND is refused with the allowed values', async () => {
    await expect(loadHandler({ ...ENV, MODEL_KIND: 'sagemaker' }).handler(job)).rejects.toThrow(
      "Environment variable MODEL_KIND must be 'embedded' or 'endpoint', got 'sagemaker'",
    );
  });
});
