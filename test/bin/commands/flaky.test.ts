import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';

import { BUCKET, OUTPUTS, stackWithOutputs } from './deployed-stack.fixtures';
import { registerFlakyCommand } from '../../../bin/commands/flaky';
import { QuarantineFile } from '../../../core/remediation/quarantine';
import { s3Error } from '../../helpers/conditional-s3';

const NOW = new Date('2026-12-06T10:00:00Z');
const QUARANTINE_KEY = 'quarantine/project=app/quarantine.json';
const cloudFormation = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);

async function cli(...args: string[]): Promise<{ output: string; errors: string }> {
  let output = '';
  let errors = '';
  const program = new Command().exitOverride().configureOutput({ writeErr: (text) => (errors += text) });
  registerFlakyCommand(
    program,
    (text) => (output += text),
    () => ({
      cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
      s3: new S3Client({ region: 'eu-west-1' }),
    }),
    () => NOW,
  );
  program.commands.forEach((c) =>
    c.commands.forEach((s) => s.exitOverride().configureOutput({ writeErr: (text) => (errors += text) })),
  );
  await program.parseAsync(['node', 'pipemend', 'flaky', ...args]);
  return { output, errors };
}

const body = (value: unknown) =>
  ({ transformToString: () => Promise.resolve(JSON.stringify(value)) }) as never;

/** Project `app`'s test history: `cart debounces` flipped and was rescued, `pay total` is broken on r3. */
function history(): void {
  const runs = [
    { buildId: 'app:1', revision: 'r1', results: [{ name: 'cart debounces', outcome: 'FAILED' }] },
    { buildId: 'app:2', revision: 'r2', results: [{ name: 'cart debounces', outcome: 'PASSED' }] },
    { buildId: 'app:3', revision: 'r3', results: [{ name: 'pay total', outcome: 'FAILED' }] },
    { buildId: 'app:4', revision: 'r3', results: [{ name: 'pay total', outcome: 'FAILED' }] },
  ];
  // Keys list newest first, as classify writes them.
  const runKeys = runs.map((_, i) => `test-history/project=app/${9 - i}-app%3A${i + 1}.json`).reverse();
  s3.on(ListObjectsV2Command, { Prefix: 'test-history/project=app/' }).resolves({
    Contents: runKeys.map((Key) => ({ Key })),
  });
  runs.forEach((run, i) =>
    s3.on(GetObjectCommand, { Key: runKeys[runs.length - 1 - i] }).resolves({ Body: body(run) }),
  );
  const flakyKey = `test-history/flaky/project=app/${encodeURIComponent('cart debounces')}.json`;
  s3.on(ListObjectsV2Command, { Prefix: 'test-history/flaky/project=app/' }).resolves({
    Contents: [{ Key: flakyKey }],
  });
  s3.on(GetObjectCommand, { Key: flakyKey }).resolves({
    Body: body({
      projectName: 'app',
      name: 'cart debounces',
      revision: 'r2',
      remediationId: 'rem-7',
      recordedAt: '2026-12-01T08:00:00.000Z',
    }),
  });
}

function quarantineFile(tests: QuarantineFile['tests']): void {
  s3.on(GetObjectCommand, { Key: QUARANTINE_KEY }).resolves({
    ETag: '"etag-1"',
    Body: body({ version: 1, project: 'app', updatedAt: '2026-12-01T00:00:00Z', tests }),
  });
}

const entry = (name: string, expiresAt: string): QuarantineFile['tests'][number] => ({
  name,
  owner: 'team-cart',
  reason: 'timing-dependent, issue #41',
  quarantinedAt: '2026-12-01T00:00:00Z',
  expiresAt,
  origin: 'manual',
});

/** The quarantine file the last PutObject wrote. */
function written(): QuarantineFile {
  const put = s3.commandCalls(PutObjectCommand).at(-1)!.args[0].input as PutObjectCommandInput;
  return JSON.parse(String(put.Body)) as QuarantineFile;
}

beforeEach(() => {
  cloudFormation.reset();
  s3.reset();
  stackWithOutputs(cloudFormation);
  s3.on(GetObjectCommand, { Key: QUARANTINE_KEY }).rejects(s3Error('NoSuchKey', 404));
  s3.on(ListObjectsV2Command).resolves({});
  s3.on(PutObjectCommand).resolves({});
});

describe('flaky list', () => {
  test("prints each test's runs, failures, flips and rescues, and its active quarantine", async () => {
    history();
    quarantineFile([entry('cart debounces', '2026-12-15T00:00:00Z')]);
    const { output } = await cli('list', '--project', 'app');
    expect(output).toBe(
      [
        'Project app: 2 tests with failures or quarantines, 1 quarantined',
        '  test            verdict   runs  failures  flips  rescues  quarantine',
        '  cart debounces  flaky        2         1      1        1  until 2026-12-15T00:00:00Z by team-cart: timing-dependent, issue #41',
        '  pay total       broken       2         2      0        0  - (broken on r3: a regression, not a flake)',
        '',
      ].join('\n'),
    );
  });

  test("counts every rescue a test's object records, those beyond its listed latest ones too", async () => {
    history();
    const rescue = (revision: string, remediationId: string) => ({
      failedBuildId: `app:${remediationId}`,
      revision,
      remediationId,
      recordedAt: '2026-12-02T08:00:00.000Z',
    });
    s3.on(GetObjectCommand, {
      Key: `test-history/flaky/project=app/${encodeURIComponent('cart debounces')}.json`,
    }).resolves({
      Body: body({
        projectName: 'app',
        name: 'cart debounces',
        ...rescue('r6', 'rem-6'),
        rescueCount: 53,
        rescues: [rescue('r4', 'rem-4'), rescue('r5', 'rem-5'), rescue('r6', 'rem-6')],
      }),
    });

    const { output } = await cli('list', '--project', 'app', '--json');

    const [project] = JSON.parse(output) as { tests: { name: string; stats: { rescues: number } }[] }[];
    expect(project?.tests.find((test) => test.name === 'cart debounces')?.stats.rescues).toBe(53);
  });

  test("reads the stack's data-lake bucket", async () => {
    history();
    await cli('list', '--project', 'app');
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: BUCKET, Key: QUARANTINE_KEY });
  });

  test('never shows an expired quarantine, even one no writer dropped yet', async () => {
    history();
    quarantineFile([entry('cart debounces', '2026-12-06T10:00:00Z')]);
    const { output } = await cli('list', '--project', 'app');
    expect(output).toContain('0 quarantined');
    expect(output).not.toContain('until 2026-12-06T10:00:00Z');
  });

  test('lists a quarantined test with no recorded failure, without numbers', async () => {
    history();
    quarantineFile([entry('login', '2026-12-15T00:00:00Z')]);
    const { output } = await cli('list', '--project', 'app');
    expect(output).toContain(
      '  login           -            -         -      -        -  until 2026-12-15T00:00:00Z by team-cart',
    );
  });

  test('--json prints the stats and quarantines as JSON', async () => {
    history();
    const { output } = await cli('list', '--project', 'app', '--json');
    expect(JSON.parse(output)).toEqual([
      {
        project: 'app',
        tests: [
          {
            name: 'cart debounces',
            stats: {
              name: 'cart debounces',
              runs: 2,
              failures: 1,
              flips: 1,
              rescues: 1,
              brokenRevisions: [],
              verdict: 'flaky',
              lastRescuedAt: '2026-12-01T08:00:00.000Z',
            },
          },
          {
            name: 'pay total',
            stats: {
              name: 'pay total',
              runs: 2,
              failures: 2,
              flips: 0,
              rescues: 0,
              brokenRevisions: ['r3'],
              verdict: 'broken',
            },
          },
        ],
      },
    ]);
  });

  test('without --project, lists every project with test history or a quarantine', async () => {
    s3.on(ListObjectsV2Command, { Prefix: 'test-history/project=', Delimiter: '/' }).resolves({
      CommonPrefixes: [{ Prefix: 'test-history/project=app/' }],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'test-history/flaky/project=', Delimiter: '/' }).resolves({
      CommonPrefixes: [{ Prefix: 'test-history/flaky/project=app/' }],
    });
    s3.on(ListObjectsV2Command, { Prefix: 'quarantine/project=', Delimiter: '/' }).resolves({
      CommonPrefixes: [{ Prefix: 'quarantine/project=web%20ui/' }],
    });
    s3.on(GetObjectCommand, { Key: 'quarantine/project=web%20ui/quarantine.json' }).rejects(
      s3Error('NoSuchKey', 404),
    );
    const { output } = await cli('list');
    expect(output).toBe(
      [
        'Project app: 0 tests with failures or quarantines, 0 quarantined',
        'Project web ui: 0 tests with failures or quarantines, 0 quarantined',
        '',
      ].join('\n'),
    );
  });

  test('a bucket that does not exist is named in one line, with where its name came from', async () => {
    s3.on(ListObjectsV2Command).rejects(s3Error('NoSuchBucket', 404));
    await expect(cli('list', '--project', 'app')).rejects.toThrow(
      `the data-lake bucket '${BUCKET}' (output DataLakeBucketName of stack 'Pipemend') does not exist in this account and region: check --region, or redeploy the stack`,
    );
  });

  test('a stack without a data-lake output says to redeploy', async () => {
    cloudFormation.reset();
    stackWithOutputs(cloudFormation, { ...OUTPUTS, DataLakeBucketName: '' });
    await expect(cli('list')).rejects.toThrow("stack 'Pipemend' has no output DataLakeBucketName");
  });
});

describe('flaky quarantine', () => {
  test('creates the project file with the entry, only if no other writer created it', async () => {
    history();
    const { output } = await cli(
      'quarantine',
      'app',
      'cart debounces',
      '--owner',
      'team-cart',
      '--reason',
      'timing-dependent, issue #41',
    );
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: QUARANTINE_KEY,
      IfNoneMatch: '*',
      ContentType: 'application/json',
    });
    expect(written()).toEqual({
      version: 1,
      project: 'app',
      updatedAt: '2026-12-06T10:00:00Z',
      tests: [
        {
          ...entry('cart debounces', '2026-12-20T10:00:00Z'),
          quarantinedAt: '2026-12-06T10:00:00Z',
          evidence: { verdict: 'flaky', runs: 2, failures: 1, flips: 1, rescues: 1 },
        },
      ],
    });
    expect(output).toBe(
      [
        "app: 'cart debounces' quarantined until 2026-12-20T10:00:00Z (owner team-cart); released automatically then",
        `The buildspec reads s3://${BUCKET}/${QUARANTINE_KEY} (docs/remediation.md, "Quarantine").`,
        '',
      ].join('\n'),
    );
  });

  test('adds to an existing file with If-Match on its ETag, dropping expired entries', async () => {
    history();
    quarantineFile([entry('login', '2026-12-15T00:00:00Z'), entry('old', '2026-12-05T00:00:00Z')]);
    await cli('quarantine', 'app', 'cart debounces', '--owner', 'team-cart', '--reason', 'r', '--days', '3');
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: QUARANTINE_KEY, IfMatch: '"etag-1"' });
    expect(written().tests.map((test) => [test.name, test.expiresAt])).toEqual([
      ['cart debounces', '2026-12-09T10:00:00Z'],
      ['login', '2026-12-15T00:00:00Z'],
    ]);
  });

  test('is refused without --owner before any AWS call', async () => {
    await expect(cli('quarantine', 'app', 'cart debounces', '--reason', 'r')).rejects.toThrow(
      "a quarantine needs an owner who will fix or release 'cart debounces': give --owner <team or person>",
    );
    expect(cloudFormation).not.toHaveReceivedAnyCommand();
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  test('is refused without --reason before any AWS call', async () => {
    await expect(cli('quarantine', 'app', 'cart debounces', '--owner', 'team-cart')).rejects.toThrow(
      "a quarantine needs a reason: give --reason <text> for 'cart debounces'",
    );
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  test('refuses more days than the maximum before reading anything', async () => {
    await expect(
      cli('quarantine', 'app', 'cart debounces', '--owner', 'o', '--reason', 'r', '--days', '120'),
    ).rejects.toThrow("option '--days <n>' argument '120' is invalid. a whole number of days from 1 to 90");
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  test('quarantines a broken test only with a warning that it hides a regression', async () => {
    history();
    const { output } = await cli('quarantine', 'app', 'pay total', '--owner', 'team-pay', '--reason', 'r');
    expect(written().tests[0]?.evidence).toMatchObject({ verdict: 'broken', brokenRevisions: ['r3'] });
    expect(output).toContain(
      "warning: 'pay total' looks broken, not flaky: it failed on every run of revision r3 and never passed on it. Quarantining it hides a regression; quarantined only because team-pay asked explicitly.",
    );
  });

  test('warns when the test has no recorded failure (a misspelt name skips nothing)', async () => {
    history();
    const { output } = await cli('quarantine', 'app', 'cart debounce', '--owner', 'o', '--reason', 'r');
    expect(output).toContain(
      "warning: no failure of 'cart debounce' is recorded for app: check that the name matches the test report's",
    );
  });

  test('--bucket writes to that bucket without looking up the stack', async () => {
    history();
    await cli('quarantine', 'app', 'cart debounces', '--owner', 'o', '--reason', 'r', '--bucket', 'other');
    expect(cloudFormation).not.toHaveReceivedAnyCommand();
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Bucket: 'other', Key: QUARANTINE_KEY });
  });
});

describe('flaky release', () => {
  test('removes the entry with If-Match on the ETag it read', async () => {
    quarantineFile([entry('cart debounces', '2026-12-15T00:00:00Z'), entry('login', '2026-12-15T00:00:00Z')]);
    const { output } = await cli('release', 'app', 'cart debounces');
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: QUARANTINE_KEY, IfMatch: '"etag-1"' });
    expect(written().tests.map((test) => test.name)).toEqual(['login']);
    expect(output).toBe(
      "app: 'cart debounces' released (was quarantined by team-cart until 2026-12-15T00:00:00Z)\n",
    );
  });

  test('an unknown test is refused naming the quarantined ones, and nothing is written', async () => {
    quarantineFile([entry('login', '2026-12-15T00:00:00Z')]);
    await expect(cli('release', 'app', 'cart debounces')).rejects.toThrow(
      "'cart debounces' is not quarantined in project app (quarantined: 'login')",
    );
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });
});
