/** Mocked AWS clients behind the scorer's real adapters, with the data lake held in a map. */
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetObjectCommand,
  GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';

import { buildRecord, END_TIME } from './fixtures';
import { buildRecordKey } from '../../../core/collection/build-record';
import { ModelKind } from '../../../core/scoring/scoring';
import { EmbeddedScorer } from '../../../lambda/scorer/embedded-scorer';
import { EndpointScorer } from '../../../lambda/scorer/endpoint-scorer';
import { S3BuildRecords } from '../../../lambda/scorer/s3-build-records';
import { S3ManifestSource } from '../../../lambda/scorer/s3-manifest-source';
import { S3ProjectHistory } from '../../../lambda/scorer/s3-project-history';
import { ScorerDependencies } from '../../../lambda/scorer/scorer-app';
import { VerdictPublisher } from '../../../lambda/scorer/verdict-publisher';

export const BUCKET = 'pipemend-data-lake';
export const BUS = 'pipemend-bus';
export const ENDPOINT = 'pipemend-rcf';

export const s3Mock = mockClient(S3Client);
export const codePipelineMock = mockClient(CodePipelineClient);
export const sageMakerMock = mockClient(SageMakerRuntimeClient);
export const eventBridgeMock = mockClient(EventBridgeClient);

/** The objects of the mocked data lake, by key. */
export const lake = new Map<string, string>();

export function body(text: string): GetObjectCommandOutput['Body'] {
  return { transformToString: async () => text } as unknown as GetObjectCommandOutput['Body'];
}

export function resetAws(): void {
  lake.clear();
  for (const mock of [s3Mock, codePipelineMock, sageMakerMock, eventBridgeMock]) mock.reset();
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const text = lake.get(input.Key);
    if (text === undefined)
      throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
    return { Body: body(text) };
  });
  s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    lake.set(input.Key, input.Body);
    return {};
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: [...lake.keys()]
      .filter((key) => key.startsWith(input.Prefix))
      .map((Key) => ({ Key, LastModified: new Date(END_TIME) })),
    IsTruncated: false,
  }));
  codePipelineMock.on(PutJobSuccessResultCommand).resolves({});
  codePipelineMock.on(PutJobFailureResultCommand).resolves({});
  eventBridgeMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
}

/** Stores the fixture build's record where the collector would have written it. */
export function storeRecord(record = buildRecord()): void {
  lake.set(buildRecordKey(record), JSON.stringify(record));
}

export function scoresAnswer(...scores: number[]): { Body: Uint8Array } {
  return { Body: new TextEncoder().encode(JSON.stringify({ scores: scores.map((score) => ({ score })) })) };
}

/** The scorer wired exactly as the handler wires it, over the mocked clients. */
export function dependencies(kind: ModelKind = 'endpoint'): ScorerDependencies {
  const s3 = new S3Client({});
  return {
    records: new S3BuildRecords(s3, BUCKET, { attempts: 2, sleep: async () => undefined }),
    scoring: {
      manifests: new S3ManifestSource(s3, BUCKET),
      history: new S3ProjectHistory(s3, BUCKET, { now: () => Date.parse(END_TIME) }),
      modelKind: kind,
      modelScorer:
        kind === 'endpoint'
          ? new EndpointScorer(new SageMakerRuntimeClient({}), ENDPOINT)
          : new EmbeddedScorer(s3, BUCKET),
      now: () => new Date('2026-11-21T20:00:05Z'),
    },
    sink: new VerdictPublisher(new EventBridgeClient({}), BUS),
    codePipeline: new CodePipelineClient({}),
    now: () => new Date(END_TIME),
  };
}

/** The one CodePipeline call made (fails the test if there were zero or several). */
export function onlyCodePipelineCall(): { command: string; input: unknown } {
  const calls = codePipelineMock.calls();
  expect(calls).toHaveLength(1);
  const call = calls[0]!;
  return { command: call.args[0].constructor.name, input: call.args[0].input };
}

/**
 * Exactly one CodePipeline call was made, of this command, with exactly this input (checked both with
 * aws-sdk-client-mock-jest and by deep equality, so no extra field slips through).
 */
export function expectOnlyCodePipelineCall(
  command: typeof PutJobSuccessResultCommand | typeof PutJobFailureResultCommand,
  input: Record<string, unknown>,
): void {
  expect(codePipelineMock).toHaveReceivedCommandTimes(command as typeof PutJobSuccessResultCommand, 1);
  expect(codePipelineMock).toHaveReceivedCommandWith(
    command as typeof PutJobSuccessResultCommand,
    input as never,
  );
  expect(onlyCodePipelineCall()).toEqual({ command: command.name, input });
}
