/**
 * `npm run bench:scorer`: the scorer handler's in-process latency with mocked AWS clients (p50/p99 over
 * 10,000 invocations per path). Bundle sizes are `npm run bench:bundles`, read from cdk.out.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

import { buildRecordKey } from '../core/collection/build-record';
import { normalize } from '../core/scoring/baseline';
import { CURRENT_MODEL_MANIFEST_KEY, ModelManifest } from '../core/scoring/model-manifest';
import { ModelKind } from '../core/scoring/scoring';
import { EmbeddedScorer } from '../lambda/scorer/embedded-scorer';
import { EndpointScorer } from '../lambda/scorer/endpoint-scorer';
import { S3BuildRecords } from '../lambda/scorer/s3-build-records';
import { S3ManifestSource } from '../lambda/scorer/s3-manifest-source';
import { S3ProjectHistory } from '../lambda/scorer/s3-project-history';
import { createScorer, ScorerResult } from '../lambda/scorer/scorer-app';
import { VerdictPublisher } from '../lambda/scorer/verdict-publisher';
import { RandomCutForest } from '../sagemaker/rcf';
import {
  BUILD_ARN,
  BUILD_ID,
  buildRecord,
  END_TIME,
  historyVectors,
  manifest,
  PROJECT,
} from '../test/lambda/scorer/fixtures';

const INVOCATIONS = 10_000;
const WARM_UP = 200;
const TARGET_P99_MS = 5;

function jobEvent(i: number): unknown {
  return {
    'CodePipeline.job': {
      id: `job-${i}`,
      accountId: '123456789012',
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'scorer',
            UserParameters: JSON.stringify({ mode: 'gate', buildId: BUILD_ID }),
          },
        },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T', expirationTime: 0 },
      },
    },
  };
}

function buildEvent(i: number): unknown {
  return {
    version: '0',
    id: `event-${i}`,
    'detail-type': 'CodeBuild Build State Change',
    source: 'aws.codebuild',
    account: '123456789012',
    time: END_TIME,
    region: 'eu-west-1',
    resources: [BUILD_ARN],
    detail: { 'build-status': 'SUCCEEDED', 'project-name': PROJECT, 'build-id': BUILD_ARN },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Real SDK clients whose `send` answers from memory (a map for S3): the handler, adapters and parsing run
 * for real, the network does not. Lighter than aws-sdk-client-mock, which records every call.
 */
function scorerOverFakeAws(
  lake: Map<string, string>,
  kind: ModelKind,
  score: number,
): (event: unknown) => Promise<ScorerResult> {
  const s3 = new S3Client({ region: 'eu-west-1' });
  s3.send = (async (command: { input: { Key?: string; Prefix?: string; Body?: string } }) => {
    if (command.input.Body !== undefined) {
      lake.set(command.input.Key ?? '', command.input.Body);
      return {};
    }
    if (command.input.Prefix !== undefined) {
      const prefix = command.input.Prefix;
      return { Contents: [...lake.keys()].filter((key) => key.startsWith(prefix)).map((Key) => ({ Key })) };
    }
    const text = lake.get(command.input.Key ?? '');
    if (text === undefined)
      throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
    return { Body: { transformToString: async () => text } };
  }) as never;
  const sageMaker = new SageMakerRuntimeClient({ region: 'eu-west-1' });
  const answer = new TextEncoder().encode(JSON.stringify({ scores: [{ score }] }));
  sageMaker.send = (async () => ({ Body: answer })) as never;
  const eventBridge = new EventBridgeClient({ region: 'eu-west-1' });
  eventBridge.send = (async () => ({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] })) as never;
  const codePipeline = new CodePipelineClient({ region: 'eu-west-1' });
  codePipeline.send = (async () => ({})) as never;
  const bucket = 'pipemend-data-lake';
  return createScorer({
    records: new S3BuildRecords(s3, bucket),
    scoring: {
      manifests: new S3ManifestSource(s3, bucket),
      history: new S3ProjectHistory(s3, bucket, { now: () => Date.parse(END_TIME) }),
      modelKind: kind,
      modelScorer:
        kind === 'endpoint' ? new EndpointScorer(sageMaker, 'pipemend-rcf') : new EmbeddedScorer(s3, bucket),
    },
    sink: new VerdictPublisher(eventBridge, 'pipemend-bus'),
    codePipeline,
    now: () => new Date(END_TIME),
  });
}

/** Runs one path; the handler's log and EMF lines are swallowed (still serialised) so the figures stay readable. */
async function measure(
  name: string,
  run: (i: number) => Promise<ScorerResult>,
  expected: ScorerResult['kind'],
): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  const wall: number[] = [];
  const cpu: number[] = [];
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    for (let i = 0; i < WARM_UP + INVOCATIONS; i++) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const result = await run(i);
      const elapsed = performance.now() - start;
      const used = process.cpuUsage(cpuStart);
      if (result.kind !== expected)
        throw new Error(`${name}: expected a ${expected} result, got ${JSON.stringify(result)}`);
      if (i >= WARM_UP) {
        wall.push(elapsed);
        cpu.push((used.user + used.system) / 1000);
      }
    }
  } finally {
    process.stdout.write = write;
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const p99 = percentile(wall, 99);
  const verdict = p99 < TARGET_P99_MS ? 'meets' : 'misses';
  return `| ${name} | ${percentile(wall, 50).toFixed(3)} | ${p99.toFixed(3)} | ${percentile(cpu, 50).toFixed(3)} | ${percentile(cpu, 99).toFixed(3)} | ${verdict} |`;
}

async function latency(): Promise<void> {
  console.log(
    `Scorer handler latency, in process, SDK clients answering from memory, ${INVOCATIONS} invocations per path after ${WARM_UP} warm-up (ms; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores):\n`,
  );
  console.log(
    `| path | wall p50 | wall p99 | CPU p50 | CPU p99 | wall p99 < ${TARGET_P99_MS} ms |\n| --- | ---: | ---: | ---: | ---: | --- |`,
  );
  const record = buildRecord();
  const lake = new Map<string, string>([
    [buildRecordKey(record), JSON.stringify(record)],
    [CURRENT_MODEL_MANIFEST_KEY, JSON.stringify(manifest())],
  ]);
  const endpointScorer = scorerOverFakeAws(lake, 'endpoint', 1.1);
  console.log(
    await measure(
      'CodePipeline job, endpoint model, normal (PutJobSuccessResult)',
      (i) => endpointScorer(jobEvent(i)),
      'job',
    ),
  );

  const embedded: ModelManifest = manifest({
    kind: 'embedded',
    artifactKey: 'models/bench/forest.json',
    endpointName: undefined,
  });
  const forest = new RandomCutForest({ dimensions: 12, numTrees: 100, sampleSize: 256, seed: 1 });
  for (const row of historyVectors(1000)) forest.update(normalize(row, embedded.baselines[PROJECT]!));
  const slow = buildRecord({}, 2);
  const embeddedLake = new Map<string, string>([
    [buildRecordKey(slow), JSON.stringify(slow)],
    [CURRENT_MODEL_MANIFEST_KEY, JSON.stringify(embedded)],
    ['models/bench/forest.json', JSON.stringify(forest.toJSON())],
  ]);
  const embeddedScorer = scorerOverFakeAws(embeddedLake, 'embedded', 0);
  console.log(
    await measure(
      'CodePipeline job, embedded forest 100 trees × 256, anomaly (PutJobFailureResult)',
      (i) => embeddedScorer(jobEvent(i)),
      'job',
    ),
  );

  const coldLake = new Map<string, string>([[buildRecordKey(record), JSON.stringify(record)]]);
  historyVectors(100).forEach((row, i) =>
    coldLake.set(`features/project=${PROJECT}/date=2026-11-21/${PROJECT}:h${i}.csv`, row.join(',')),
  );
  const baselineScorer = scorerOverFakeAws(coldLake, 'endpoint', 0);
  console.log(
    await measure(
      'EventBridge build event, no model: cold-start baseline',
      (i) => baselineScorer(buildEvent(i)),
      'build',
    ),
  );
}

async function main(): Promise<void> {
  await latency();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
