/** Build records, baselines and manifests for the scorer's tests. */
import { BuildRecord, toFeatureVector } from '../../../core/collection/build-record';
import { computeBaseline, ProjectBaseline } from '../../../core/scoring/baseline';
import { MODEL_INPUT_VERSION, ModelManifest } from '../../../core/scoring/model-manifest';

export const PROJECT = 'app-build';
export const BUILD_ID = `${PROJECT}:0b7c5b5e-1111-4222-8333-944445555666`;
export const BUILD_ARN = `arn:aws:codebuild:eu-west-1:123456789012:build/${BUILD_ID}`;
export const END_TIME = '2026-11-21T20:00:00.000Z';

/** A typical build of the project; `scale` stretches the build phase (2 = twice as slow). */
export function buildRecord(overrides: Partial<BuildRecord> = {}, buildScale = 1): BuildRecord {
  const build = 240 * buildScale;
  return {
    schemaVersion: 1,
    buildArn: BUILD_ARN,
    buildId: BUILD_ID,
    buildNumber: 42,
    projectName: PROJECT,
    status: 'SUCCEEDED',
    startTime: new Date(Date.parse(END_TIME) - (build + 80) * 1000).toISOString(),
    endTime: END_TIME,
    durationSeconds: build + 80,
    phases: {
      QUEUED: 5,
      PROVISIONING: 20,
      DOWNLOAD_SOURCE: 5,
      INSTALL: 30,
      PRE_BUILD: 10,
      BUILD: build,
      POST_BUILD: 5,
      UPLOAD_ARTIFACTS: 5,
    },
    tests: { total: 200, failed: 0, error: 0, skipped: 0 },
    utilization: { cpuUtilizedPercent: 60, memoryUtilizedPercent: 40 },
    missing: { tests: false, utilization: false },
    ...overrides,
  };
}

/** `count` ordinary builds with a few percent of deterministic jitter. */
export function historyVectors(count: number): number[][] {
  return Array.from({ length: count }, (_, i) => {
    const jitter = 1 + (((i * 37) % 11) - 5) / 100;
    return toFeatureVector(buildRecord({}, jitter)).values.map((value, f) =>
      f === 9 ? value : Math.round(value * (1 + (((i * 13 + f) % 7) - 3) / 100) * 100) / 100,
    );
  });
}

export function projectBaseline(count = 40): ProjectBaseline {
  return computeBaseline(PROJECT, historyVectors(count));
}

export function manifest(overrides: Partial<ModelManifest> = {}): ModelManifest {
  return {
    modelVersion: '2026-11-21T19-00-00Z',
    featureSchemaVersion: 1,
    inputVersion: MODEL_INPUT_VERSION,
    kind: 'endpoint',
    endpointName: 'pipemend-rcf',
    threshold: 2.5,
    scoreMean: 1,
    scoreStd: 0.5,
    trainedAt: '2026-11-21T19:00:00Z',
    trainingRows: 4000,
    minBuildsPerProject: 20,
    baselines: { [PROJECT]: projectBaseline() },
    ...overrides,
  };
}

/** Live-looking artifact credentials, as CodePipeline hands every Lambda job: they must never be logged. */
export const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
export const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN';

/** A CodePipeline Lambda job (invoke action or stage-condition rule) with its UserParameters. */
export function codePipelineJob(jobId: string, userParameters: string | undefined): unknown {
  return {
    'CodePipeline.job': {
      id: jobId,
      accountId: '123456789012',
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'pipemend-scorer',
            ...(userParameters === undefined ? {} : { UserParameters: userParameters }),
          },
        },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: {
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          secretAccessKey: SECRET_ACCESS_KEY,
          sessionToken: SESSION_TOKEN,
          expirationTime: 1575493418000,
        },
      },
    },
  };
}
