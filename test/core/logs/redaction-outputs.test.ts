/**
 * Every way log text leaves Pipemend, fed the secret corpus: no planted secret comes out of any of them,
 * and the near misses come out unchanged. Each output is first checked to carry the planted lines when
 * nothing redacts them (the control), so a pass means redaction removed the secrets, not that the output
 * never showed those lines.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

import { findEnvironmentFaults } from '../../../core/logs/environment-faults';
import { cleanLine, selectFailureExcerpt } from '../../../core/logs/log-excerpt';
import { selectRedactedExcerpt } from '../../../core/logs/redacted-excerpt';
import { suggestFix } from '../../../core/suggestions/offline-suggester';
import { Suggestion } from '../../../core/suggestions/suggestion';
import { handler } from '../../../lambda/suggester/handler';
import {
  alteredNearMisses,
  leakedCases,
  leaksAny,
  NEAR_MISSES,
  plantedLog,
  quotingModel,
  runLogCommand,
  SECRET_CASES,
} from '../../fixtures/secrets/corpus';

const LOG = plantedLog();
const BUDGET = 1000;
const ALL_CASES = SECRET_CASES.map(({ id }) => id);

/** The corpus outcome of one output: which cases leaked, which near misses changed. */
function outcome(output: string): { leaked: string[]; altered: string[] } {
  return { leaked: leakedCases(output), altered: alteredNearMisses(output) };
}

test('control: the excerpt selected from the unredacted planted log holds every secret and near miss', () => {
  const raw = selectFailureExcerpt(LOG, undefined, { budget: BUDGET });
  expect(outcome(raw.text)).toEqual({ leaked: ALL_CASES, altered: [] });
});

describe('the excerpt library function', () => {
  test('selectRedactedExcerpt lets no planted secret through and keeps the near misses', () => {
    const { excerpt, redactedSecrets } = selectRedactedExcerpt(LOG, undefined, { budget: BUDGET });
    expect(outcome(excerpt.text)).toEqual({ leaked: [], altered: [] });
    expect(redactedSecrets).toBeGreaterThanOrEqual(SECRET_CASES.length);
  });

  test('redacts the passing log too, and keeps the line numbers of the original log', () => {
    const { excerpt } = selectRedactedExcerpt(LOG, LOG.split('\n').slice(0, 3).join('\n'), {
      budget: BUDGET,
    });
    const original = LOG.split('\n');
    let compared = 0;
    excerpt.lines.forEach((line, index) => {
      const text = excerpt.text.split('\n')[index]!;
      if (text.includes('[REDACTED')) return;
      expect(cleanLine(original[line - 1]!)).toBe(text);
      compared += 1;
    });
    expect(compared).toBeGreaterThan(100);
  });
});

describe('the CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipemend-planted-'));
  const file = path.join(dir, 'fail.log');
  beforeAll(() => writeFileSync(file, LOG));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (command: 'excerpt' | 'suggest', ...args: string[]): Promise<string> =>
    runLogCommand(command, file, BUDGET, ...args);

  test('pipemend excerpt prints no planted secret', async () => {
    expect(outcome(await run('excerpt'))).toEqual({ leaked: [], altered: [] });
  });

  test('pipemend excerpt --json prints no planted secret', async () => {
    const printed = await run('excerpt', '--json');
    const { text } = JSON.parse(printed) as { text: string };
    expect(outcome(text)).toEqual({ leaked: [], altered: [] });
    expect(leakedCases(printed)).toEqual([]);
  });

  test('pipemend suggest prints no planted secret', async () => {
    expect(outcome(await run('suggest'))).toEqual({ leaked: [], altered: [] });
  });

  test('pipemend suggest --json prints no planted secret', async () => {
    const printed = await run('suggest', '--json');
    const suggestion = JSON.parse(printed) as Suggestion;
    expect(outcome(suggestion.excerpt.text)).toEqual({ leaked: [], altered: [] });
    expect(leakedCases(printed)).toEqual([]);
  });
});

describe('the offline suggestion', () => {
  test('suggestFix puts no planted secret in any field', () => {
    const suggestion = suggestFix({ failLog: LOG, passLog: LOG.slice(0, 200), budget: BUDGET });
    expect(leakedCases(JSON.stringify(suggestion))).toEqual([]);
    expect(alteredNearMisses(suggestion.excerpt.text)).toEqual([]);
  });
});

describe('the suggester Lambda (Bedrock request, stored JSON, event, e-mail, logs)', () => {
  const logs = mockClient(CloudWatchLogsClient);
  const s3 = mockClient(S3Client);
  const bedrock = mockClient(BedrockRuntimeClient);
  const dynamo = mockClient(DynamoDBDocumentClient);
  const events = mockClient(EventBridgeClient);
  const sns = mockClient(SNSClient);
  const ENV = {
    DATA_LAKE_BUCKET: 'lake',
    EVENT_BUS_NAME: 'pipemend-bus',
    TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:pipemend',
    TOKEN_BUDGET_TABLE: 'token-budget',
    DAILY_TOKEN_BUDGET: '10000000',
    BEDROCK_MODEL_ID: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    EXCERPT_BUDGET_LINES: String(BUDGET),
  };
  const verdict = {
    id: 'event-1',
    source: 'pipemend',
    'detail-type': 'Pipemend Build Verdict',
    detail: {
      build: {
        buildId: 'app-build:2222',
        buildArn: 'arn:aws:codebuild:eu-west-1:123456789012:build/app-build:2222',
        projectName: 'app-build',
        status: 'FAILED',
        failedPhase: 'BUILD',
        logs: { groupName: '/aws/codebuild/app-build', streamName: '2222' },
      },
    },
  };
  let printed: string[] = [];

  beforeEach(() => {
    for (const mock of [logs, s3, bedrock, dynamo, events, sns]) mock.reset();
    Object.assign(process.env, ENV);
    logs.on(GetLogEventsCommand).resolves({
      events: LOG.split('\n').map((message) => ({ message: `${message}\n` })),
      nextForwardToken: 'f/1',
    });
    logs.on(GetLogEventsCommand, { nextToken: 'f/1' }).resolves({ events: [], nextForwardToken: 'f/1' });
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'missing', $metadata: {} }));
    s3.on(HeadObjectCommand).rejects(new NotFound({ message: 'not found', $metadata: {} }));
    s3.on(PutObjectCommand).resolves({});
    dynamo.on(UpdateCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    printed = [];
    // Powertools writes its JSON log lines to the process's standard streams.
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed.push(String(chunk));
        return true;
      });
    }
  });

  afterEach(() => jest.restoreAllMocks());
  afterAll(() => {
    for (const key of Object.keys(ENV)) delete process.env[key];
  });

  function sent(): Record<'converse' | 'stored' | 'event' | 'email', string> {
    const one = (calls: { args: [{ input: unknown }] }[]): string => {
      expect(calls).toHaveLength(1);
      return JSON.stringify(calls[0]!.args[0].input);
    };
    const stored = s3
      .commandCalls(PutObjectCommand)
      .find((call) => call.args[0].input.Key?.endsWith('.json'));
    return {
      converse: one(bedrock.commandCalls(ConverseCommand)),
      stored: String(stored!.args[0].input.Body),
      event: one(events.commandCalls(PutEventsCommand)),
      email: String(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message),
    };
  }

  test('a model answer: no planted secret in the request, the stored JSON, the event or the e-mail', async () => {
    bedrock.on(ConverseCommand).callsFake(quotingModel);
    await handler(verdict);
    const outputs = sent();
    const { guardContent } = (
      JSON.parse(outputs.converse) as {
        messages: { content: { guardContent?: { text: { text: string } } }[] }[];
      }
    ).messages[0]!.content[1]!;
    expect(outcome(guardContent!.text.text)).toEqual({ leaked: [], altered: [] });
    expect(outcome((JSON.parse(outputs.stored) as Suggestion).excerpt.text)).toEqual({
      leaked: [],
      altered: [],
    });
    expect(outcome(outputs.email)).toEqual({ leaked: [], altered: [] });
    for (const [output, text] of Object.entries({ ...outputs, logs: printed.join('') })) {
      expect({ output, leaked: leakedCases(text) }).toEqual({ output, leaked: [] });
    }
    expect(printed.join('')).toMatch(/fix suggestion delivered/);
  });

  test('a model error that echoes the request: no planted secret in the fallback, the e-mail or the logs', async () => {
    bedrock.on(ConverseCommand).callsFake((input: unknown) => {
      throw Object.assign(new Error(`Malformed input request: ${JSON.stringify(input).slice(0, 20_000)}`), {
        name: 'ValidationException',
      });
    });
    await handler(verdict);
    const outputs = sent();
    const stored = JSON.parse(outputs.stored) as Suggestion;
    expect(stored).toMatchObject({ source: 'offline', fallbackReason: 'model-error' });
    expect(stored.fallbackDetail).toContain('[REDACTED:');
    const logged = printed.join('');
    expect(logged).toMatch(/Bedrock Converse failed/);
    for (const [output, text] of Object.entries({ ...outputs, logs: logged })) {
      expect({ output, leaked: leakedCases(text) }).toEqual({ output, leaked: [] });
    }
  });
});

describe('environment-fault lines (decision reasons, remediation records)', () => {
  test('findEnvironmentFaults reports fault lines with their secrets redacted', () => {
    // Each case on a line that is also a network fault, as when a failed request prints its URL.
    const lines = SECRET_CASES.flatMap(({ text }) => {
      const [first, ...rest] = text.split('\n');
      return [`connect ETIMEDOUT 10.0.4.12:443 ${first}`, ...rest, ''];
    });
    const faults = findEnvironmentFaults(lines);
    const reported = faults.map(({ line }) => line).join('\n');
    // The control: the cases whose secret is on their first line would be reported unredacted.
    const exposed = SECRET_CASES.filter(({ text, secrets }) => leaksAny(text.split('\n')[0]!, secrets));
    expect(exposed.length).toBeGreaterThanOrEqual(60);
    expect(leakedCases(reported)).toEqual([]);
    expect(faults).toHaveLength(SECRET_CASES.length);
  });

  test('keeps the near misses on fault lines unchanged', () => {
    const faults = findEnvironmentFaults(NEAR_MISSES.map(({ text }) => `ETIMEDOUT ${text}`));
    expect(faults.map(({ line }) => line)).toEqual(
      NEAR_MISSES.map(({ text }) => `ETIMEDOUT ${text}`.trim().slice(0, 300)),
    );
  });
});

describe('the choke point', () => {
  const root = path.join(__dirname, '..', '..', '..');
  /** Modules allowed to select an excerpt from unredacted text (benchmarks, outside this check, score it). */
  const ALLOWED = new Set(['core/logs/log-excerpt.ts', 'core/logs/redacted-excerpt.ts']);

  function sources(dir: string): string[] {
    return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(relative);
      return entry.name.endsWith('.ts') ? [relative] : [];
    });
  }

  test('no production code selects an excerpt without going through selectRedactedExcerpt', () => {
    const offenders = ['bin', 'core', 'lambda', 'lib', 'local', 'sagemaker']
      .flatMap(sources)
      .filter((file) => !ALLOWED.has(file))
      .filter((file) => /\bselectFailureExcerpt\b/.test(readFileSync(path.join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
