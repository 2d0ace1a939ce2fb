/**
 * `pipemend flaky list|quarantine|release`: a deployed Pipemend's flaky tests (from the test history that
 * classify and record-outcome keep in the data lake) and the per-project quarantine file a buildspec
 * fetches to skip tests (`quarantine/project=<p>/quarantine.json`, docs/remediation.md "Quarantine").
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Command, InvalidArgumentError } from 'commander';

import { DEFAULT_STACK_NAME, findDeployedStack } from './deployed-stack';
import { TestRun } from '../../core/remediation/flaky-tests';
import {
  DEFAULT_QUARANTINE_DAYS,
  emptyQuarantineFile,
  FlakyTestStats,
  flakyTestStats,
  isQuarantineActive,
  MAX_QUARANTINE_DAYS,
  QuarantineEntry,
  QuarantineRequest,
  quarantineTest,
  RecordedRescue,
  releaseTest,
} from '../../core/remediation/quarantine';
import { testHistoryPrefix } from '../../lambda/classify/aws-ports';
import { S3FlakyTestHistory } from '../../lambda/remediation/s3-flaky-test-history';
import { quarantineKey, S3QuarantineStore } from '../../lambda/remediation/s3-quarantine-store';
import { UsageError } from '../cli-errors';

export interface FlakyClients {
  readonly cloudFormation: CloudFormationClient;
  readonly s3: S3Client;
}

interface LocationOptions {
  readonly stack: string;
  readonly bucket?: string;
  readonly region?: string;
}

/** Test runs read per project, newest first (classify records one per failed or anomalous build). */
const DEFAULT_RUNS = 100;

/** One test in `flaky list`: its record in the history (if any) and its active quarantine (if any). */
export interface FlakyListRow {
  readonly name: string;
  readonly stats?: FlakyTestStats;
  readonly quarantine?: QuarantineEntry;
}

export interface FlakyProjectList {
  readonly project: string;
  readonly tests: FlakyListRow[];
}

async function bucketOf(clients: FlakyClients, options: LocationOptions): Promise<string> {
  if (options.bucket !== undefined) return options.bucket;
  return (await findDeployedStack(clients.cloudFormation, options.stack)).output('DataLakeBucketName');
}

/** A missing bucket said in one line, naming where the name came from. */
async function inBucket<T>(bucket: string, options: LocationOptions, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchBucket') throw error;
    const source =
      options.bucket !== undefined ? '--bucket' : `output DataLakeBucketName of stack '${options.stack}'`;
    throw new UsageError(
      `the data-lake bucket '${bucket}' (${source}) does not exist in this account and region: check --region, or redeploy the stack`,
    );
  }
}

/** Names of the projects below `prefix` whose keys go on with `project=<name>/`. */
async function projectsUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const projects: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: `${prefix}project=`,
        Delimiter: '/',
        ContinuationToken: token,
      }),
    );
    for (const common of page.CommonPrefixes ?? []) {
      const name = common.Prefix?.slice(`${prefix}project=`.length, -1);
      if (name) projects.push(decodeURIComponent(name));
    }
    token = page.NextContinuationToken;
  } while (token);
  return projects;
}

/** The project's recorded test runs, oldest first (keys list newest first). */
async function testRuns(s3: S3Client, bucket: string, project: string, maxRuns: number): Promise<TestRun[]> {
  const { Contents = [] } = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: testHistoryPrefix(project), MaxKeys: maxRuns }),
  );
  const runs = await Promise.all(
    Contents.flatMap((object) => (object.Key?.endsWith('.json') ? [object.Key] : [])).map(async (Key) => {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      return JSON.parse((await Body?.transformToString()) ?? 'null') as TestRun | null;
    }),
  );
  return runs.filter((run): run is TestRun => run !== null && Array.isArray(run.results)).reverse();
}

/**
 * The rescues record-outcome recorded for the project: those each test's object lists (its latest ones),
 * and per test how many earlier rescues it counts beyond them.
 */
async function recordedRescues(
  s3: S3Client,
  bucket: string,
  project: string,
): Promise<{ listed: RecordedRescue[]; unlisted: Map<string, number> }> {
  const history = new S3FlakyTestHistory(bucket, s3);
  const names = await history.knownFlaky(project);
  const objects = await Promise.all(names.map((name) => history.evidence(project, name)));
  const listed: RecordedRescue[] = [];
  const unlisted = new Map<string, number>();
  for (const object of objects) {
    if (!object) continue;
    listed.push(...object.rescues.map((rescue) => ({ name: object.name, ...rescue })));
    if (object.rescueCount > object.rescues.length)
      unlisted.set(object.name, object.rescueCount - object.rescues.length);
  }
  return { listed, unlisted };
}

export async function projectFlakyStats(
  s3: S3Client,
  bucket: string,
  project: string,
  maxRuns = DEFAULT_RUNS,
): Promise<FlakyTestStats[]> {
  const [runs, rescues] = await Promise.all([
    testRuns(s3, bucket, project, maxRuns),
    recordedRescues(s3, bucket, project),
  ]);
  return flakyTestStats(runs, rescues.listed, { unlistedRescues: rescues.unlisted });
}

export async function flakyList(
  s3: S3Client,
  bucket: string,
  now: Date,
  options: { readonly project?: string; readonly runs?: number } = {},
): Promise<FlakyProjectList[]> {
  const store = new S3QuarantineStore(bucket, s3);
  const projects =
    options.project !== undefined
      ? [options.project]
      : [
          ...new Set(
            (
              await Promise.all([
                projectsUnder(s3, bucket, 'test-history/'),
                projectsUnder(s3, bucket, 'test-history/flaky/'),
                store.projects(),
              ])
            ).flat(),
          ),
        ].sort();
  return Promise.all(
    projects.map(async (project) => {
      const [stats, { file }] = await Promise.all([
        projectFlakyStats(s3, bucket, project, options.runs),
        store.read(project, now),
      ]);
      // Expired entries are released: never shown as quarantined, whether or not a writer dropped them yet.
      const active = file.tests.filter((entry) => isQuarantineActive(entry, now));
      const rows: FlakyListRow[] = stats.map((test) => {
        const quarantine = active.find((entry) => entry.name === test.name);
        return { name: test.name, stats: test, ...(quarantine ? { quarantine } : {}) };
      });
      for (const quarantine of active) {
        if (!stats.some((test) => test.name === quarantine.name))
          rows.push({ name: quarantine.name, quarantine });
      }
      return { project, tests: rows };
    }),
  );
}

export function formatFlakyList(projects: readonly FlakyProjectList[]): string {
  if (projects.length === 0)
    return 'No test history recorded yet: classify records the tests of failed builds.\n';
  const lines: string[] = [];
  for (const { project, tests } of projects) {
    const quarantined = tests.filter((row) => row.quarantine).length;
    lines.push(
      `Project ${project}: ${tests.length} tests with failures or quarantines, ${quarantined} quarantined`,
    );
    if (tests.length === 0) continue;
    const width = Math.max(4, ...tests.map((row) => row.name.length));
    lines.push(`  ${'test'.padEnd(width)}  verdict   runs  failures  flips  rescues  quarantine`);
    for (const { name, stats, quarantine } of tests) {
      const numbers = stats
        ? `${stats.verdict.padEnd(8)}  ${String(stats.runs).padStart(4)}  ${String(stats.failures).padStart(8)}  ${String(stats.flips).padStart(5)}  ${String(stats.rescues).padStart(7)}`
        : `${'-'.padEnd(8)}  ${'-'.padStart(4)}  ${'-'.padStart(8)}  ${'-'.padStart(5)}  ${'-'.padStart(7)}`;
      const held = quarantine
        ? `until ${quarantine.expiresAt} by ${quarantine.owner}: ${quarantine.reason}`
        : stats?.verdict === 'broken'
          ? `- (broken on ${stats.brokenRevisions.join(', ')}: a regression, not a flake)`
          : '-';
      lines.push(`  ${name.padEnd(width)}  ${numbers}  ${held}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > MAX_QUARANTINE_DAYS) {
    throw new InvalidArgumentError(`a whole number of days from 1 to ${MAX_QUARANTINE_DAYS}`);
  }
  return days;
}

function parseRuns(value: string): number {
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000)
    throw new InvalidArgumentError('a whole number from 1 to 1000');
  return runs;
}

function locationOptions(command: Command): Command {
  return command
    .option('--stack <name>', 'the Pipemend stack whose data lake holds the history', DEFAULT_STACK_NAME)
    .option('--bucket <name>', 'the data-lake bucket (default: the stack output DataLakeBucketName)')
    .option('--region <region>', 'AWS region (default: from the AWS profile/environment)');
}

export function registerFlakyCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  clientsFor: (region?: string) => FlakyClients = (region) => {
    const config = region ? { region } : {};
    return { cloudFormation: new CloudFormationClient(config), s3: new S3Client(config) };
  },
  now: () => Date = () => new Date(),
): void {
  const flaky = program
    .command('flaky')
    .description(
      'List flaky tests and quarantine them (a file per project that a buildspec fetches to skip tests)',
    );

  locationOptions(
    flaky
      .command('list')
      .description(
        'Flaky tests per project with runs, failures, flips, rescues by a rerun, and active quarantines',
      )
      .option('--project <name>', 'one CodeBuild project (default: every project with test history)')
      .option('--runs <n>', 'recorded test runs read per project, newest first', parseRuns, DEFAULT_RUNS)
      .option('--json', 'print JSON instead of a table'),
  ).action(async (options: LocationOptions & { project?: string; runs: number; json?: boolean }) => {
    const clients = clientsFor(options.region);
    const bucket = await bucketOf(clients, options);
    const projects = await inBucket(bucket, options, () =>
      flakyList(clients.s3, bucket, now(), {
        ...(options.project !== undefined ? { project: options.project } : {}),
        runs: options.runs,
      }),
    );
    write(options.json ? `${JSON.stringify(projects, null, 2)}\n` : formatFlakyList(projects));
  });

  locationOptions(
    flaky
      .command('quarantine')
      .description(
        `Quarantine a test: the buildspec skips it until its expiry (default ${DEFAULT_QUARANTINE_DAYS} days, at most ${MAX_QUARANTINE_DAYS})`,
      )
      .argument('<project>', 'the CodeBuild project')
      .argument('<test>', "the test's name as its test report gives it (what `flaky list` shows)")
      .option('--owner <who>', 'the team or person who will fix the test or release it')
      .option('--reason <text>', 'why it is skipped (an issue link helps)')
      .option('--days <n>', `days until it is released automatically (1-${MAX_QUARANTINE_DAYS})`, parseDays),
  ).action(
    async (
      project: string,
      test: string,
      options: LocationOptions & { owner?: string; reason?: string; days?: number },
    ) => {
      const at = now();
      const request: QuarantineRequest = {
        name: test,
        origin: 'manual',
        ...(options.owner !== undefined ? { owner: options.owner } : {}),
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
        ...(options.days !== undefined ? { days: options.days } : {}),
      };
      // A request the rules refuse (no owner, no reason) is refused before any AWS call.
      quarantineTest(emptyQuarantineFile(project, at), request, at);
      const clients = clientsFor(options.region);
      const bucket = await bucketOf(clients, options);
      const result = await inBucket(bucket, options, async () => {
        const stats = (await projectFlakyStats(clients.s3, bucket, project)).find((s) => s.name === test);
        const outcome = await new S3QuarantineStore(bucket, clients.s3).update(project, at, (file) => {
          const quarantined = quarantineTest(file, { ...request, ...(stats ? { evidence: stats } : {}) }, at);
          return { file: quarantined.file, result: quarantined };
        });
        return { outcome, recorded: stats !== undefined };
      });
      const { entry, renewed, warnings } = result.outcome;
      const lines = [
        `${project}: '${entry.name}' ${renewed ? 'quarantine renewed' : 'quarantined'} until ${entry.expiresAt} (owner ${entry.owner}); released automatically then`,
        ...warnings.map((warning) => `warning: ${warning}`),
        ...(result.recorded
          ? []
          : [
              `warning: no failure of '${entry.name}' is recorded for ${project}: check that the name matches the test report's`,
            ]),
        `The buildspec reads s3://${bucket}/${quarantineKey(project)} (docs/remediation.md, "Quarantine").`,
      ];
      write(`${lines.join('\n')}\n`);
    },
  );

  locationOptions(
    flaky
      .command('release')
      .description("Release a test's quarantine before its expiry: the buildspec runs it again")
      .argument('<project>', 'the CodeBuild project')
      .argument('<test>', "the quarantined test's name"),
  ).action(async (project: string, test: string, options: LocationOptions) => {
    const clients = clientsFor(options.region);
    const at = now();
    const bucket = await bucketOf(clients, options);
    const released = await inBucket(bucket, options, () =>
      new S3QuarantineStore(bucket, clients.s3).update(project, at, (file) => {
        const outcome = releaseTest(file, test, at);
        return { file: outcome.file, result: outcome.released };
      }),
    );
    write(
      `${project}: '${released.name}' released (was quarantined by ${released.owner} until ${released.expiresAt})\n`,
    );
  });
}
