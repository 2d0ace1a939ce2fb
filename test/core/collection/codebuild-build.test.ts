import { toCsvRow, toFeatureVector } from '../../../core/collection/build-record';
import {
  BuildNotFinishedError,
  CodeBuildBuild,
  InvalidBuildError,
  pipelineFromInitiator,
  summarizeTestReports,
  toBuildRecord,
  toUtilization,
} from '../../../core/collection/codebuild-build';
import { sampleCodeBuild } from '../../helpers/sample-events';

const recorded = sampleCodeBuild();
const [succeeded, failed, inPipeline] = recorded.builds as [CodeBuildBuild, CodeBuildBuild, CodeBuildBuild];

describe('toBuildRecord', () => {
  test('maps phases, status, source revision, initiator and logs of a BatchGetBuilds build', () => {
    const record = toBuildRecord({ build: succeeded, tests: null, utilization: null });
    expect(record).toMatchObject({
      schemaVersion: 1,
      buildId: 'api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11',
      buildArn:
        'arn:aws:codebuild:eu-west-1:123456789012:build/api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11',
      buildNumber: 41,
      projectName: 'api-build',
      status: 'SUCCEEDED',
      startTime: '2026-11-20T09:14:02.000Z',
      endTime: '2026-11-20T09:19:00.000Z',
      durationSeconds: 298,
      phases: {
        QUEUED: 4,
        PROVISIONING: 23,
        DOWNLOAD_SOURCE: 6,
        INSTALL: 41,
        PRE_BUILD: 3,
        BUILD: 212,
        POST_BUILD: 2,
        UPLOAD_ARTIFACTS: 5,
      },
      sourceVersion: 'refs/heads/main',
      resolvedSourceVersion: '8c1f2e9d7b3a4c5d6e7f8091a2b3c4d5e6f70819',
      initiator: 'GitHub-Hookshot/4f2c9a1',
      computeType: 'BUILD_GENERAL1_SMALL',
      logs: { groupName: '/aws/codebuild/api-build', streamName: '5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11' },
    });
    expect(record.failedPhase).toBeUndefined();
    expect(record.pipeline).toBeUndefined();
  });

  test('names the first phase that did not succeed', () => {
    expect(toBuildRecord({ build: failed, tests: null, utilization: null }).failedPhase).toBe('BUILD');
  });

  test('flags missing tests and utilisation explicitly rather than inventing zeros', () => {
    const record = toBuildRecord({ build: inPipeline, tests: null, utilization: null });
    expect(record.missing).toEqual({ tests: true, utilization: true });
    expect(record.tests).toBeNull();
    expect(record.utilization).toBeNull();
    expect(toFeatureVector(record).missing.slice(-3)).toEqual([true, true, true]);
  });

  test('takes the pipeline name from a codepipeline/<name> initiator', () => {
    expect(toBuildRecord({ build: inPipeline, tests: null, utilization: null }).pipeline).toEqual({
      pipelineName: 'web-pipeline',
    });
  });

  test('prefers the pipeline context of an action event over the initiator', () => {
    const pipeline = {
      pipelineName: 'web-pipeline',
      stageName: 'Build',
      actionName: 'BuildAndTest',
      executionId: 'e-1',
    };
    expect(toBuildRecord({ build: inPipeline, tests: null, utilization: null, pipeline }).pipeline).toEqual(
      pipeline,
    );
  });

  test('accepts SDK Dates and epoch milliseconds as timestamps', () => {
    const record = toBuildRecord({
      build: {
        ...succeeded,
        startTime: new Date('2026-11-20T09:14:02Z'),
        endTime: Date.parse('2026-11-20T09:15:02Z'),
      },
      tests: null,
      utilization: null,
    });
    expect(record.durationSeconds).toBe(60);
  });

  test('reads epoch seconds (the AWS CLI JSON) as seconds, not as milliseconds of 1970', () => {
    const record = toBuildRecord({
      build: {
        ...succeeded,
        startTime: Date.parse('2026-11-20T09:14:02Z') / 1000,
        endTime: Date.parse('2026-11-20T09:15:02.5Z') / 1000,
        phases: [
          { phaseType: 'BUILD', phaseStatus: 'SUCCEEDED', startTime: 1795165000, endTime: 1795165030 },
        ],
      },
      tests: null,
      utilization: null,
    });
    expect(record).toMatchObject({
      startTime: '2026-11-20T09:14:02.000Z',
      endTime: '2026-11-20T09:15:02.500Z',
      durationSeconds: 60.5,
    });
    expect(record.phases.BUILD).toBe(30);
  });

  test('the record serialises to the same feature row from the SDK and from JSON', () => {
    const record = toBuildRecord({
      build: succeeded,
      tests: { total: 412, failed: 0, error: 0, skipped: 3 },
      utilization: { cpuUtilizedPercent: 94, memoryUtilizedPercent: 43.3 },
    });
    expect(toCsvRow(toFeatureVector(record))).toBe('298,4,23,6,41,3,212,2,5,0,94,43.3');
  });

  test('refuses a build that has not finished (retryable)', () => {
    expect(() =>
      toBuildRecord({ build: { ...succeeded, buildStatus: 'IN_PROGRESS' }, tests: null, utilization: null }),
    ).toThrow(new BuildNotFinishedError(`build ${succeeded.id} is IN_PROGRESS, not finished`));
  });

  test('refuses a build without an end time (not retryable)', () => {
    expect(() =>
      toBuildRecord({ build: { ...succeeded, endTime: undefined }, tests: null, utilization: null }),
    ).toThrow(InvalidBuildError);
  });

  test('refuses a build without a project name', () => {
    expect(() =>
      toBuildRecord({ build: { ...succeeded, projectName: undefined }, tests: null, utilization: null }),
    ).toThrow(/lacks its id, arn or projectName/);
  });
});

describe('summarizeTestReports', () => {
  test('sums the test reports and ignores code-coverage reports', () => {
    expect(summarizeTestReports(recorded.reports)).toEqual({ total: 827, failed: 12, error: 2, skipped: 6 });
  });

  test('is null when there is no test report', () => {
    expect(summarizeTestReports([])).toBeNull();
    expect(summarizeTestReports([recorded.reports[1]!])).toBeNull();
  });
});

describe('toUtilization', () => {
  test('takes the peak of each metric', () => {
    expect(toUtilization(recorded.metrics['api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11']!)).toEqual({
      cpuUtilizedPercent: 94,
      memoryUtilizedPercent: 43.3,
      cpuUtilized: 1.88,
      memoryUtilizedMb: 1731,
    });
  });

  test('is null without datapoints (regions without utilisation metrics)', () => {
    expect(toUtilization({})).toBeNull();
    expect(toUtilization({ CPUUtilizedPercent: [], MemoryUtilizedPercent: [] })).toBeNull();
  });

  test('is null when only one of the percentages was reported', () => {
    expect(toUtilization({ CPUUtilizedPercent: [50] })).toBeNull();
  });
});

test('pipelineFromInitiator ignores other initiators', () => {
  expect(pipelineFromInitiator('alice')).toBeUndefined();
  expect(pipelineFromInitiator(undefined)).toBeUndefined();
});
