/**
 * Redaction benchmark: the secret corpus (test/fixtures/secrets/corpus.ts, formats after the gitleaks and
 * trufflehog rule sets) and its near misses through every output path log text leaves Pipemend by, and
 * the redactor's throughput on a 10 MB log and on adversarial input.
 *
 * For each output path: how many of the corpus's formats come out redacted (no part of 8 characters or
 * more of any of their secrets in the output) and how many near misses come out changed; beside it, the
 * control: what the same output would carry if nothing redacted (selection of the unredacted log).
 *
 * With `--real-logs`, also every log under ../shared/data (CiDiff, LogChunks, Veloren): how many lines the
 * redactor changes there, by kind (each such line was reviewed: they hold credentials, not near misses).
 *
 *   npx tsx bench/redaction.ts [--mb 10] [--real-logs]
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HeadObjectCommand, NotFound, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

import { sharedDataPath } from './shared-data';
import { findEnvironmentFaults } from '../core/logs/environment-faults';
import { selectFailureExcerpt } from '../core/logs/log-excerpt';
import { selectRedactedExcerpt } from '../core/logs/redacted-excerpt';
import { redact, redactSecrets } from '../core/logs/redaction';
import { FixSuggestionDeps, handleFinishedBuild } from '../core/suggestions/fix-suggestions';
import { suggestFix } from '../core/suggestions/offline-suggester';
import { Suggestion } from '../core/suggestions/suggestion';
import { AwsSuggestionDelivery, BedrockSuggestionModel } from '../lambda/suggester/adapters';
import {
  alteredNearMisses,
  guardedText,
  leakedCases,
  leaksAny,
  NEAR_MISSES,
  plantedLog,
  quotingModel,
  runLogCommand,
  SECRET_CASES,
} from '../test/fixtures/secrets/corpus';

const COMMAND = 'npx tsx bench/redaction.ts';
const mbIndex = process.argv.indexOf('--mb');
const LOG_MB = mbIndex >= 0 ? Number(process.argv[mbIndex + 1]) : 10;
const BUDGET = 1000;
const LOG = plantedLog();

interface PathResult {
  readonly name: string;
  /** Text of the output; `nearMissText` when near misses are judged on part of it (the excerpt). */
  readonly output: string;
  readonly nearMissText?: string;
  /** The same output without redaction, when the bench can make it. */
  readonly control?: string;
}

function row(result: PathResult): string {
  const redacted = SECRET_CASES.length - leakedCases(result.output).length;
  const altered =
    result.nearMissText === undefined
      ? 'n/a (carries no log text)'
      : `${alteredNearMisses(result.nearMissText).length}/${NEAR_MISSES.length}`;
  const control =
    result.control === undefined
      ? ''
      : `${leakedCases(result.control).length}/${SECRET_CASES.length} would leak`;
  return `${result.name.padEnd(48)} ${`${redacted}/${SECRET_CASES.length}`.padEnd(10)} ${altered.padEnd(26)} ${control}`;
}

/** Fake AWS clients that record what they are sent. */
function recordingClients(converse: (input: unknown) => unknown): {
  sent: { converse: unknown[]; stored: string[]; events: string[]; emails: string[] };
  deps: Pick<FixSuggestionDeps, 'delivery' | 'model'>;
} {
  const sent = {
    converse: [] as unknown[],
    stored: [] as string[],
    events: [] as string[],
    emails: [] as string[],
  };
  const s3 = {
    send: async (command: unknown) => {
      if (command instanceof HeadObjectCommand) throw new NotFound({ message: 'not found', $metadata: {} });
      if (command instanceof PutObjectCommand) sent.stored.push(String(command.input.Body));
      return {};
    },
  } as unknown as S3Client;
  const events = {
    send: async (command: PutEventsCommand) => {
      sent.events.push(JSON.stringify(command.input));
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] };
    },
  } as unknown as EventBridgeClient;
  const sns = {
    send: async (command: PublishCommand) => {
      sent.emails.push(`${command.input.Subject}\n${command.input.Message}`);
      return { MessageId: 'm-1' };
    },
  } as unknown as SNSClient;
  const bedrock = {
    send: async (command: { input: unknown }) => {
      sent.converse.push(command.input);
      return converse(command.input);
    },
  } as unknown as BedrockRuntimeClient;
  return {
    sent,
    deps: {
      delivery: new AwsSuggestionDelivery(
        { s3, events, sns },
        { bucket: 'lake', eventBusName: 'bus', topicArn: 'arn:aws:sns:eu-west-1:123456789012:pipemend' },
      ),
      model: new BedrockSuggestionModel(bedrock),
    },
  };
}

/** The suggester's use case with the real adapters over recording clients. */
async function suggesterRun(converse: (input: unknown) => unknown): Promise<{
  sent: { converse: unknown[]; stored: string[]; events: string[]; emails: string[] };
  logged: string;
}> {
  const { sent, deps } = recordingClients(converse);
  const warnings: string[] = [];
  await handleFinishedBuild(
    {
      ...deps,
      logs: { read: async () => LOG },
      passingBuilds: { lastPassing: async () => undefined, recordPassing: async () => undefined },
      tokenBudget: { reserve: async () => true, settle: async () => undefined },
      diagnostics: { warn: (message, detail) => warnings.push(`${message} ${JSON.stringify(detail)}`) },
      now: () => new Date('2026-11-21T10:00:00Z'),
    },
    { modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', maxOutputTokens: 800, excerptBudget: BUDGET },
    {
      buildId: 'app-build:1',
      buildArn: 'arn:aws:codebuild:eu-west-1:123456789012:build/app-build:1',
      projectName: 'app-build',
      status: 'FAILED',
      failedPhase: 'BUILD',
      logs: { groupName: '/aws/codebuild/app-build', streamName: '1' },
    },
  );
  return { sent, logged: warnings.join('\n') };
}

async function outputPaths(): Promise<PathResult[]> {
  const raw = selectFailureExcerpt(LOG, undefined, { budget: BUDGET }).text;
  const corpusText = SECRET_CASES.map(({ text }) => text).join('\n');
  const results: PathResult[] = [
    {
      name: 'redactSecrets (the redactor, each case alone)',
      output: SECRET_CASES.map(({ text }) => redact(text)).join('\n'),
      nearMissText: NEAR_MISSES.map(({ text }) => redact(text)).join('\n'),
      control: corpusText,
    },
  ];
  const library = selectRedactedExcerpt(LOG, undefined, { budget: BUDGET }).excerpt.text;
  results.push({
    name: 'excerpt library (selectRedactedExcerpt)',
    output: library,
    nearMissText: library,
    control: raw,
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'pipemend-redaction-bench-'));
  try {
    const file = path.join(dir, 'fail.log');
    writeFileSync(file, LOG);
    const excerptText = await runLogCommand('excerpt', file, BUDGET);
    const excerptJson = await runLogCommand('excerpt', file, BUDGET, '--json');
    const suggestText = await runLogCommand('suggest', file, BUDGET);
    const suggestJson = await runLogCommand('suggest', file, BUDGET, '--json');
    results.push(
      { name: 'pipemend excerpt', output: excerptText, nearMissText: excerptText, control: raw },
      {
        name: 'pipemend excerpt --json',
        output: excerptJson,
        nearMissText: (JSON.parse(excerptJson) as { text: string }).text,
        control: raw,
      },
      { name: 'pipemend suggest', output: suggestText, nearMissText: suggestText, control: raw },
      {
        name: 'pipemend suggest --json',
        output: suggestJson,
        nearMissText: (JSON.parse(suggestJson) as Suggestion).excerpt.text,
        control: raw,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const offline = suggestFix({ failLog: LOG, budget: BUDGET });
  results.push({
    name: 'offline suggestion (suggestFix)',
    output: JSON.stringify(offline),
    nearMissText: offline.excerpt.text,
    control: raw,
  });

  const answered = await suggesterRun(quotingModel);
  const stored = answered.sent.stored.join('\n');
  results.push(
    {
      name: 'Bedrock Converse request',
      output: JSON.stringify(answered.sent.converse),
      nearMissText: answered.sent.converse.map(guardedText).join('\n'),
      control: raw,
    },
    {
      name: 'stored suggestion JSON (S3 PutObject)',
      output: stored,
      nearMissText: answered.sent.stored
        .map((body) => (JSON.parse(body) as Suggestion).excerpt.text)
        .join('\n'),
      control: raw,
    },
    { name: 'suggestion event (EventBridge PutEvents)', output: answered.sent.events.join('\n') },
    {
      name: 'e-mail (SNS Publish)',
      output: answered.sent.emails.join('\n'),
      nearMissText: answered.sent.emails.join('\n'),
      control: raw,
    },
  );

  const failed = await suggesterRun((input) => {
    throw Object.assign(new Error(`Malformed input request: ${JSON.stringify(input).slice(0, 20_000)}`), {
      name: 'ValidationException',
    });
  });
  results.push({
    name: 'logs + fallback (model error echoing input)',
    output: `${failed.logged}\n${failed.sent.stored.join('\n')}\n${failed.sent.emails.join('\n')}`,
    nearMissText: failed.sent.emails.join('\n'),
    control: raw,
  });

  const faultLines = SECRET_CASES.flatMap(({ text }) => {
    const [first, ...rest] = text.split('\n');
    return [`connect ETIMEDOUT 10.0.4.12:443 ${first}`, ...rest, ''];
  });
  const nearMissFaults = NEAR_MISSES.map(({ text }) => `ETIMEDOUT ${text}`);
  results.push({
    name: 'environment-fault lines (decision reasons)',
    output: findEnvironmentFaults(faultLines)
      .map(({ line }) => line)
      .join('\n'),
    nearMissText: findEnvironmentFaults(nearMissFaults)
      .map(({ line }) => line)
      .join('\n'),
    control: faultLines.filter((line) => line.includes('ETIMEDOUT')).join('\n'),
  });
  return results;
}

/** Real CI logs when the shared data is there, else generated build output; `megabytes` long. */
function bigLog(megabytes: number): { text: string; source: string; plantedAt: number[] } {
  const target = megabytes * 1_000_000;
  const parts: string[] = [];
  let size = 0;
  let source = 'generated build output';
  const dir = sharedDataPath('ci-logs');
  if (existsSync(dir)) {
    source = `real CI logs from ${dir}`;
    for (const name of readdirSync(dir).sort()) {
      for (const file of ['fail.log', 'pass.log']) {
        const logFile = path.join(dir, name, file);
        if (!existsSync(logFile)) continue;
        parts.push(readFileSync(logFile, 'utf8'));
        size += parts[parts.length - 1]!.length;
      }
    }
  }
  if (size === 0) {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i += 1) {
      lines.push(
        `[INFO] Compiling module ${i} of com.acme.orders (${i % 97} classes) at 2026-11-21T10:${String(i % 60).padStart(2, '0')}:00Z`,
        `    at com.acme.orders.OrderService.place(OrderService.java:${i % 400})`,
        `npm WARN deprecated package-${i}@1.${i % 10}.0: use package-${i}@2`,
      );
    }
    parts.push(lines.join('\n'));
    size = parts[0]!.length;
  }
  let lines = parts.join('\n').split('\n');
  while (size < target) {
    lines = lines.concat(lines);
    size *= 2;
  }
  // Cut to the target size on a line boundary, then plant the corpus every so many lines.
  let kept = 0;
  let length = 0;
  while (kept < lines.length && length < target) length += lines[kept++]!.length + 1;
  lines = lines.slice(0, kept);
  const plantedAt: number[] = [];
  const every = Math.floor(lines.length / (SECRET_CASES.length + 1));
  SECRET_CASES.forEach((secretCase, index) => {
    const at = (index + 1) * every;
    plantedAt.push(at);
    lines[at] = `${lines[at]} ${secretCase.text}`;
  });
  return { text: lines.join('\n'), source, plantedAt };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(run: () => void, repeats: number): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i += 1) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  return median(times);
}

function* logFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* logFiles(file);
    else if (/\.log$/.test(entry.name)) yield file;
  }
}

/** Lines the redactor changes in the real CI logs beside the project, by kind. */
function realLogs(): void {
  const root = sharedDataPath();
  if (!existsSync(root)) {
    console.log(`\nReal CI logs skipped: ${root} not found`);
    return;
  }
  let files = 0;
  let bytes = 0;
  let changed = 0;
  const counts: Record<string, number> = {};
  const started = performance.now();
  for (const dir of ['ci-logs', 'logchunks', 'ci-failures'].map((name) => path.join(root, name))) {
    if (!existsSync(dir)) continue;
    for (const file of logFiles(dir)) {
      const text = readFileSync(file, 'utf8');
      const result = redactSecrets(text);
      files += 1;
      bytes += text.length;
      if (result.total === 0) continue;
      const before = text.split('\n');
      changed += result.text.split('\n').filter((line, index) => line !== before[index]).length;
      for (const [kind, n] of Object.entries(result.counts)) counts[kind] = (counts[kind] ?? 0) + (n ?? 0);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\nReal CI logs (${root}): ${files} logs, ${(bytes / 1e6).toFixed(0)} MB, ${changed} lines changed in ${seconds.toFixed(1)} s (with reading): ${Object.entries(
      counts,
    )
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
  );
}

async function main(): Promise<void> {
  console.log(
    `Redaction benchmark: ${COMMAND}${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
  );
  console.log(
    `Corpus: ${SECRET_CASES.length} secret formats and ${NEAR_MISSES.length} near misses (test/fixtures/secrets/corpus.ts), planted in one failed-build log under ${SECRET_CASES.length + NEAR_MISSES.length} error lines\n`,
  );
  console.log(
    `${'output path'.padEnd(48)} ${'redacted'.padEnd(10)} ${'near misses changed'.padEnd(26)} control (no redaction)`,
  );
  const results = await outputPaths();
  for (const result of results) console.log(row(result));
  const allRedacted = results.every((result) => leakedCases(result.output).length === 0);
  const noFalse = results.every(
    (result) => result.nearMissText === undefined || alteredNearMisses(result.nearMissText).length === 0,
  );
  console.log(
    `\nEvery path: ${allRedacted ? '100%' : 'NOT 100%'} of ${SECRET_CASES.length} formats redacted, ${noFalse ? 'zero' : 'SOME'} false redactions of ${NEAR_MISSES.length} near misses.`,
  );

  const log = bigLog(LOG_MB);
  const megabytes = log.text.length / 1_000_000;
  let result = redactSecrets(log.text);
  const redactMs = time(() => {
    result = redactSecrets(log.text);
  }, 5);
  const excerptMs = time(() => selectRedactedExcerpt(log.text, undefined, { budget: 50 }), 3);
  const selectionMs = time(() => selectFailureExcerpt(log.text, undefined, { budget: 50 }), 3);
  const inputLines = log.text.split(/\r\n|\r|\n/);
  const outputLines = result.text.split(/\r\n|\r|\n/);
  const plantedLeaks = log.plantedAt.filter((at, index) =>
    leaksAny(outputLines[at]!, SECRET_CASES[index]!.secrets),
  );
  console.log(
    `\nThroughput on a ${megabytes.toFixed(1)} MB log (${inputLines.length.toLocaleString('en-US')} lines, ${log.source}, the corpus planted every ${Math.floor(inputLines.length / (SECRET_CASES.length + 1))} lines):`,
  );
  console.log(
    `  redactSecrets          ${redactMs.toFixed(0).padStart(6)} ms  ${(megabytes / (redactMs / 1000)).toFixed(1).padStart(6)} MB/s  (median of 5; ${result.total} secrets replaced, lines ${outputLines.length === inputLines.length ? 'unchanged' : 'CHANGED'}, planted formats leaked: ${plantedLeaks.length})`,
  );
  console.log(
    `  selectRedactedExcerpt  ${excerptMs.toFixed(0).padStart(6)} ms  ${(megabytes / (excerptMs / 1000)).toFixed(1).padStart(6)} MB/s  (median of 3; redaction and selection)`,
  );
  console.log(
    `  selectFailureExcerpt   ${selectionMs.toFixed(0).padStart(6)} ms  ${(megabytes / (selectionMs / 1000)).toFixed(1).padStart(6)} MB/s  (median of 3; selection alone, for comparison)`,
  );

  console.log('\nAdversarial input, 1 MB each (catastrophic backtracking would take minutes):');
  const adversarial: [string, string][] = [
    ['assignments without values', 'password='.repeat(111_112)],
    ['URL schemes without hosts', 'https://a:'.repeat(100_000)],
    ['one long word', 'a'.repeat(1_000_000)],
    ['token prefixes without tokens', 'ghp_'.repeat(250_000)],
    ['key headers without END', '-----BEGIN PRIVATE KEY-----\n'.repeat(35_715)],
    ['a mysql command line without -p', `mysql ${'-x '.repeat(333_331)}`],
    ['a cookie header of short pairs', `Cookie: ${'a=b; '.repeat(199_998)}`],
    ['docker login without -p', `docker login ${'--password-stdin '.repeat(58_823)}`],
    ['Authorization headers without values', 'Authorization: '.repeat(66_667)],
  ];
  for (const [name, input] of adversarial) {
    const ms = time(() => redact(input), 1);
    console.log(`  ${name.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms`);
  }
  if (process.argv.includes('--real-logs')) realLogs();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
