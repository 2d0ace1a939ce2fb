import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetBuildsCommand,
  BatchGetReportsCommand,
  Build,
  CodeBuildClient,
  ListBuildsForProjectCommand,
} from '@aws-sdk/client-codebuild';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';

import {
  backfillProject,
  BackfillRequest,
  BackfillSummary,
  formatSummary,
  registerBackfillCommand,
} from '../../../bin/commands/backfill';
import { S3DataLake } from '../../../lambda/collector/aws-ports';
import { FileDataLake } from '../../../local/file-data-lake';
import { sampleCodeBuild } from '../../helpers/sample-events';

const codeBuild = mockClient(CodeBuildClient);
const cloudWatch = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const NOW = new Date('2026-11-21T00:00:00Z');
const template = sampleCodeBuild().builds[0] as Build;

/** A finished api-build build that started `daysAgo` days before NOW. */
function buildStarted(index: number, daysAgo: number, overrides: Partial<Build> = {}): Build {
  const start = new Date(NOW.getTime() - daysAgo * 86_400_000);
  return {
    ...template,
    id: `api-build:${String(index).padStart(4, '0')}`,
    arn: `arn:aws:codebuild:eu-west-1:123456789012:build/api-build:${String(index).padStart(4, '0')}`,
    buildNumber: index,
    startTime: start,
    endTime: new Date(start.getTime() + 300_000),
    reportArns: [],
    ...overrides,
  };
}

let root: string;

beforeEach(async () => {
  codeBuild.reset();
  cloudWatch.reset();
  s3.reset();
  cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  root = await mkdtemp(path.join(tmpdir(), 'pipemend-backfill-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** 150 builds, newest first, one every 0.5 days: builds 0..149 started 0..74.5 days ago. */
function mockHistory(builds: Build[]): void {
  const ids = builds.map((build) => build.id!);
  codeBuild.on(ListBuildsForProjectCommand).callsFake(async (input: { nextToken?: string }) => {
    const offset = input.nextToken ? Number(input.nextToken) : 0;
    const page = ids.slice(offset, offset + 100);
    return { ids: page, nextToken: offset + 100 < ids.length ? String(offset + 100) : undefined };
  });
  const byId = new Map(builds.map((build) => [build.id, build]));
  codeBuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => ({
    builds: input.ids.map((id) => byId.get(id)!),
  }));
}

/** Backfills api-build's last 90 days into the local lake at `root`, through the mocked clients, as of NOW. */
function backfillFromMocks(overrides: Partial<BackfillRequest> = {}): Promise<BackfillSummary> {
  return backfillProject({
    project: 'api-build',
    days: 90,
    store: new FileDataLake(root),
    codeBuild: new CodeBuildClient({}),
    cloudWatch: new CloudWatchClient({}),
    now: NOW,
    ...overrides,
  });
}

test('pages through ListBuildsForProject newest first and asks BatchGetBuilds 100 at a time', async () => {
  mockHistory(Array.from({ length: 150 }, (_, index) => buildStarted(index, index * 0.5)));
  const summary = await backfillFromMocks();
  expect(summary.stored).toBe(150);
  expect(codeBuild).toHaveReceivedCommandWith(ListBuildsForProjectCommand, {
    projectName: 'api-build',
    sortOrder: 'DESCENDING',
  });
  expect(codeBuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(2);
  expect(codeBuild.commandCalls(BatchGetBuildsCommand).map((call) => call.args[0].input.ids?.length)).toEqual(
    [100, 50],
  );
  expect(await new FileDataLake(root).list('builds/')).toHaveLength(150);
  expect(await new FileDataLake(root).list('features/')).toHaveLength(150);
});

test('stops at the first page that reaches builds older than the window', async () => {
  mockHistory(Array.from({ length: 250 }, (_, index) => buildStarted(index, index * 0.5)));
  const summary = await backfillFromMocks({ days: 30 });
  // Builds 0..59 started less than 30 days ago; build 60 is exactly 30 days old and is kept.
  expect(summary.stored).toBe(61);
  expect(summary.since).toBe('2026-10-22T00:00:00.000Z');
  expect(codeBuild.commandCalls(ListBuildsForProjectCommand)).toHaveLength(1);
});

test('reads test reports and utilisation metrics of each build into the record', async () => {
  const recorded = sampleCodeBuild();
  const report = recorded.reports[0]!;
  mockHistory([buildStarted(1, 1, { reportArns: [report.arn!] })]);
  codeBuild.on(BatchGetReportsCommand).resolves({ reports: [report as never] });
  cloudWatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'm0_1', Values: [55] },
      { Id: 'm0_3', Values: [40] },
    ],
  });
  const store = new FileDataLake(root);
  const summary = await backfillFromMocks({ store });
  expect(summary).toMatchObject({ stored: 1, missingTests: 0, missingUtilization: 0 });
  const [key] = await store.list('builds/');
  expect(JSON.parse((await store.get(key!))!)).toMatchObject({
    tests: { total: 412, failed: 0, error: 0, skipped: 3 },
    utilization: { cpuUtilizedPercent: 55, memoryUtilizedPercent: 40 },
  });
});

test('counts running builds and skips builds without timestamps, naming them', async () => {
  mockHistory([
    buildStarted(1, 1, { buildStatus: 'IN_PROGRESS', endTime: undefined }),
    buildStarted(2, 2, { endTime: undefined }),
    buildStarted(3, 3),
  ]);
  const summary = await backfillFromMocks();
  expect(summary).toMatchObject({
    stored: 1,
    unfinished: 1,
    invalid: ['build api-build:0002 lacks a valid startTime or endTime'],
    missingTests: 1,
    missingUtilization: 1,
  });
});

test('writes the same keys to S3 with PutObject', async () => {
  mockHistory([buildStarted(7, 1)]);
  s3.on(PutObjectCommand).resolves({});
  await backfillFromMocks({ store: new S3DataLake(new S3Client({}), 'lake') });
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
    Bucket: 'lake',
    Key: 'builds/project=api-build/date=2026-11-20/api-build:0007.json',
  });
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
    Bucket: 'lake',
    Key: 'features/project=api-build/date=2026-11-20/api-build:0007.csv',
  });
});

test('an AWS error aborts the backfill with that error', async () => {
  codeBuild
    .on(ListBuildsForProjectCommand)
    .rejects(Object.assign(new Error('Project not found'), { name: 'ResourceNotFoundException' }));
  await expect(backfillFromMocks({ project: 'nope' })).rejects.toThrow('Project not found');
});

describe('the backfill command', () => {
  function program(): { run: (...args: string[]) => Promise<void>; output: string[] } {
    const output: string[] = [];
    const command = new Command()
      .exitOverride()
      .configureOutput({ writeErr: (text) => output.push(text), writeOut: (text) => output.push(text) });
    registerBackfillCommand(
      command,
      (text) => output.push(text),
      () => new Date('2026-11-21T12:00:00Z'),
    );
    return {
      run: (...args) => command.parseAsync(['node', 'pipemend', 'backfill', ...args]).then(() => undefined),
      output,
    };
  }

  test('writes to a local directory with --out and prints a summary', async () => {
    mockHistory([buildStarted(1, 1)]);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { run, output } = program();
    await run('--project', 'api-build', '--out', root);
    stderr.mockRestore();
    expect(output.join('')).toMatch(new RegExp(`^api-build: 1 builds since 2026-08-23 written to ${root}\n`));
    expect(await new FileDataLake(root).list('builds/')).toHaveLength(1);
  });

  test('rejects --days outside 1-365', async () => {
    const { run, output } = program();
    await expect(run('--project', 'api-build', '--days', '400', '--out', root)).rejects.toThrow();
    expect(output.join('')).toMatch(/must be an integer between 1 and 365, got '400'/);
  });

  test('requires --bucket or --out', async () => {
    const { run } = program();
    await expect(run('--project', 'api-build')).rejects.toThrow(
      'backfill needs --bucket <name> (the data lake in S3) or --out <dir> (a local directory)',
    );
  });

  test('refuses --bucket together with --out', async () => {
    const { run, output } = program();
    await run('--project', 'api-build', '--bucket', 'b', '--out', root).catch(() => undefined);
    expect(output.join('')).toMatch(/option '--bucket <name>' cannot be used with option '--out <dir>'/);
  });
});

test('formatSummary says what was written and what was skipped', () => {
  expect(
    formatSummary(
      {
        project: 'api-build',
        since: '2026-08-23T00:00:00.000Z',
        stored: 412,
        unfinished: 1,
        invalid: ['build x lacks a valid startTime or endTime'],
        missingTests: 12,
        missingUtilization: 0,
      },
      '/data',
    ),
  ).toBe(
    'api-build: 412 builds since 2026-08-23 written to /data\n' +
      '  without test report: 12, without utilisation metrics: 0\n' +
      '  still running (the collector records them when they finish): 1\n' +
      '  skipped: build x lacks a valid startTime or endTime\n',
  );
});
