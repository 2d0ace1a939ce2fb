import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetBuildsCommand, CodeBuildClient, DescribeTestCasesCommand } from '@aws-sdk/client-codebuild';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { awsClassifyPorts, testHistoryKey } from '../../../lambda/classify/aws-ports';
import { classify } from '../../../lambda/classify/classify';
import { parseTrigger } from '../../../lambda/classify/events';

const codebuild = mockClient(CodeBuildClient);
const logs = mockClient(CloudWatchLogsClient);
const s3 = mockClient(S3Client);
/** What the ports logged as warnings (an unreadable quarantine file). */
const warnings: unknown[] = [];
const ports = awsClassifyPorts(
  {
    codebuild: new CodeBuildClient({}),
    logs: new CloudWatchLogsClient({}),
    codepipeline: new CodePipelineClient({}),
    cloudwatch: new CloudWatchClient({}),
    s3: new S3Client({}),
  },
  { bucketName: 'lake', warn: (message, details) => warnings.push({ message, details }) },
);
const config = {
  ownInitiatorPrefixes: ['Pipemend-Role/'],
  healthAlarms: [],
  now: () => new Date('2026-11-21T12:00:00Z'),
};

const event = {
  id: 'evt-1',
  source: 'aws.codebuild',
  'detail-type': 'CodeBuild Build State Change',
  detail: {
    'build-status': 'FAILED',
    'project-name': 'app-build',
    'build-id': 'arn:aws:codebuild:eu-west-1:123456789012:build/app-build:42',
    'additional-information': { initiator: 'alice' },
  },
};

beforeEach(() => {
  warnings.length = 0;
  codebuild.reset();
  logs.reset();
  s3.reset();
  codebuild.on(BatchGetBuildsCommand).resolves({
    builds: [
      {
        id: 'app-build:42',
        arn: 'arn:aws:codebuild:eu-west-1:123456789012:build/app-build:42',
        projectName: 'app-build',
        buildStatus: 'FAILED',
        resolvedSourceVersion: 'c0ffee',
        initiator: 'alice',
        endTime: new Date('2026-11-21T11:59:00Z'),
        phases: [
          { phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED' },
          { phaseType: 'BUILD', phaseStatus: 'FAILED' },
        ],
        environment: {
          type: 'LINUX_CONTAINER',
          image: 'x',
          computeType: 'BUILD_GENERAL1_SMALL',
          environmentVariables: [],
        },
        logs: { groupName: '/aws/codebuild/app-build', streamName: '42' },
        reportArns: ['arn:aws:codebuild:eu-west-1:123456789012:report/app-tests:1'],
      },
    ],
  });
  codebuild.on(DescribeTestCasesCommand).resolves({
    testCases: [
      { prefix: 'cart', name: 'adds item', status: 'FAILED' },
      { prefix: 'cart', name: 'removes item', status: 'SUCCEEDED' },
    ],
  });
  logs
    .on(GetLogEventsCommand)
    .resolves({ events: [{ message: 'npm install\n' }, { message: 'npm ERR! code E429\n' }] });
  s3.on(ListObjectsV2Command).resolves({
    Contents: [{ Key: 'test-history/project=app-build/1-app-build%3A41.json' }],
  });
  s3.on(GetObjectCommand).resolves({
    // Only transformToString is read; a stream-shaped stand-in keeps the test free of HTTP plumbing.
    Body: {
      transformToString: () =>
        Promise.resolve(
          JSON.stringify({
            buildId: 'app-build:41',
            revision: 'c0ffee',
            results: [{ name: 'cart adds item', outcome: 'PASSED' }],
          }),
        ),
    } as never,
  });
  s3.on(PutObjectCommand).resolves({});
});

describe('classify through the AWS ports', () => {
  test('a failed build with a registry rate limit and a test that passed on the same revision is rerun clean', async () => {
    const classification = await classify(parseTrigger(event), ports, config);

    expect(classification).toMatchObject({
      eventId: 'evt-1',
      claimKey: 'build:app-build:42',
      target: {
        kind: 'codebuild-project',
        projectName: 'app-build',
        buildId: 'app-build:42',
        revision: 'c0ffee',
      },
      decision: { action: 'RERUN_CLEAN', confidence: 0.8 },
      rerun: { computeType: 'BUILD_GENERAL1_SMALL' },
    });
    expect(classification.decision.reasons).toEqual([
      'The log shows environment faults (registry-rate-limit), first at line 3: "npm ERR! code E429".',
      'All 1 failed test(s) are flaky (1 passed on this same revision).',
    ]);
    expect(codebuild).toHaveReceivedCommandWith(BatchGetBuildsCommand, { ids: ['app-build:42'] });
    expect(logs).toHaveReceivedCommandWith(GetLogEventsCommand, {
      logGroupName: '/aws/codebuild/app-build',
      logStreamName: '42',
      startFromHead: false,
      limit: 500,
    });
  });

  test("the build's test results join the project's history, newest first by key", async () => {
    await classify(parseTrigger(event), ports, config);

    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'lake',
      Key: testHistoryKey('app-build', 'app-build:42', '2026-11-21T11:59:00.000Z'),
    });
    expect(
      testHistoryKey('p', 'b', '2026-01-02T00:00:00Z') < testHistoryKey('p', 'b', '2026-01-01T00:00:00Z'),
    ).toBe(true);
  });

  test('a build a pipeline ran is left to its stage event', async () => {
    const fromPipeline = {
      ...event,
      detail: { ...event.detail, 'additional-information': { initiator: 'codepipeline/app' } },
    };
    const classification = await classify(parseTrigger(fromPipeline), ports, config);
    expect(classification.decision).toEqual({
      action: 'NONE',
      reasons: ['The build ran in pipeline app; its stage event decides.'],
      confidence: 1,
    });
  });

  test('an event of an unknown kind is rejected with its type', () => {
    expect(() =>
      parseTrigger({
        id: 'x',
        source: 'aws.ec2',
        'detail-type': 'EC2 Instance State-change Notification',
        detail: {},
      }),
    ).toThrow('Unsupported event aws.ec2 / EC2 Instance State-change Notification');
  });

  test('a CodeBuild event without its build id is rejected naming the field', () => {
    expect(() =>
      parseTrigger({ ...event, detail: { 'build-status': 'FAILED', 'project-name': 'app-build' } }),
    ).toThrow('Invalid CodeBuild event detail: build-id:');
  });
});

describe('classify with the quarantine file', () => {
  const QUARANTINE_KEY = 'quarantine/project=app-build/quarantine.json';
  const quarantineFile = (expiresAt: string) => ({
    version: 1,
    project: 'app-build',
    updatedAt: '2026-11-20T12:00:00Z',
    tests: [
      {
        name: 'cart adds item',
        owner: 'team-cart',
        reason: 'timing-dependent, issue #41',
        quarantinedAt: '2026-11-20T12:00:00Z',
        expiresAt,
        origin: 'manual',
      },
    ],
  });
  const body = (value: unknown) =>
    ({ transformToString: () => Promise.resolve(JSON.stringify(value)) }) as never;

  beforeEach(() => {
    // The test failed on this revision before too (broken), and the log has no environment fault.
    logs
      .on(GetLogEventsCommand)
      .resolves({ events: [{ message: 'npm test\n' }, { message: '1 failing\n' }] });
    s3.on(GetObjectCommand).resolves({
      Body: body({
        buildId: 'app-build:41',
        revision: 'c0ffee',
        results: [{ name: 'cart adds item', outcome: 'FAILED' }],
      }),
    });
    s3.on(ListObjectsV2Command, { Prefix: QUARANTINE_KEY }).resolves({ Contents: [{ Key: QUARANTINE_KEY }] });
  });

  test('a failure of quarantined tests only is marked and its quarantine is the first reason', async () => {
    s3.on(GetObjectCommand, { Key: QUARANTINE_KEY }).resolves({
      Body: body(quarantineFile('2026-11-25T12:00:00Z')),
    });

    const classification = await classify(parseTrigger(event), ports, config);

    expect(classification.decision.action).toBe('NOTIFY');
    expect(classification.decision.reasons[0]).toBe(
      'quarantined tests only: cart adds item, owner team-cart: recorded, nobody paged and no retry budget spent (the owner handles the test).',
    );
    expect(classification.quarantined).toEqual({ tests: ['cart adds item'], owners: ['team-cart'] });
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'lake', Key: QUARANTINE_KEY });
    expect(warnings).toEqual([]);
  });

  test("a quarantine expired by classify's clock leaves the failure decided on its evidence", async () => {
    s3.on(GetObjectCommand, { Key: QUARANTINE_KEY }).resolves({
      Body: body(quarantineFile('2026-11-21T12:00:00Z')),
    });

    const classification = await classify(parseTrigger(event), ports, config);

    expect(classification.quarantined).toBeUndefined();
    expect(classification.decision.action).toBe('NOTIFY');
    expect(classification.decision.reasons[0]).toMatch(/show no sign of flakiness \(cart adds item\)/);
  });

  test('a build without failed tests never reads the quarantine', async () => {
    codebuild.on(DescribeTestCasesCommand).resolves({
      testCases: [{ prefix: 'cart', name: 'adds item', status: 'SUCCEEDED' }],
    });

    await classify(parseTrigger(event), ports, config);

    expect(s3).not.toHaveReceivedCommandWith(ListObjectsV2Command, { Prefix: QUARANTINE_KEY });
  });

  test('an unreadable quarantine file leaves the failure decided on its evidence, with a warning', async () => {
    s3.on(GetObjectCommand, { Key: QUARANTINE_KEY }).resolves({
      Body: { transformToString: () => Promise.resolve('not json') } as never,
    });

    const classification = await classify(parseTrigger(event), ports, config);

    expect(classification.quarantined).toBeUndefined();
    expect(classification.decision.action).toBe('NOTIFY');
    expect(warnings).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ key: QUARANTINE_KEY }) }),
    ]);
  });
});
