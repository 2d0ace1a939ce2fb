/**
 * Every rescue of a flaky test is kept in its object, added by a conditional read-modify-write. S3 is
 * played by the in-memory object of helpers/conditional-s3 that answers conditional writes as the S3 user
 * guide says: 412 PreconditionFailed when If-Match differs or, for If-None-Match: *, the object exists.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { FlakyEvidenceRun } from '../../../core/remediation/flaky-tests';
import {
  flakyTestKey,
  FlakyTestHistoryConflictError,
  FlakyTestObject,
  MAX_RESCUES,
  S3FlakyTestHistory,
} from '../../../lambda/remediation/s3-flaky-test-history';
import { conditionalObject as conditionalS3Object, s3Error } from '../../helpers/conditional-s3';

const BUCKET = 'pipemend-datalake';
const KEY = flakyTestKey('app', 'cart debounces');
const s3 = mockClient(S3Client);

const rescue = (n: number): FlakyEvidenceRun => ({
  failedBuildId: `app:${n}`,
  revision: `r${n}`,
  remediationId: `rem-${n}`,
  recordedAt: `2026-12-0${1 + (n % 9)}T08:00:00.000Z`,
});

/** The test's object, honouring conditional writes, optionally holding `initial`. */
const conditionalObject = (initial?: unknown) =>
  conditionalS3Object<FlakyTestObject>(s3, BUCKET, KEY, initial);

const history = (maxAttempts?: number) =>
  new S3FlakyTestHistory(BUCKET, new S3Client({ region: 'eu-west-1' }), 1000, maxAttempts);

beforeEach(() => s3.reset());

test("a test's first rescue creates its object without reading it", async () => {
  const object = conditionalObject();

  await history().recordFlaky('app', ['cart debounces'], rescue(1));

  expect(object.body()).toEqual({
    projectName: 'app',
    name: 'cart debounces',
    ...rescue(1),
    rescueCount: 1,
    rescues: [rescue(1)],
  });
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { IfNoneMatch: '*' });
  expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
});

test('a later rescue is added to the list with If-Match on the ETag read, the latest at the top level', async () => {
  const object = conditionalObject();
  await history().recordFlaky('app', ['cart debounces'], rescue(1));

  await history().recordFlaky('app', ['cart debounces'], rescue(2));

  expect(object.body()).toMatchObject({ ...rescue(2), rescueCount: 2, rescues: [rescue(1), rescue(2)] });
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { IfMatch: '"v1"' });
});

test('an object in the first format (one rescue, no list) is read as one rescue and kept', async () => {
  const object = conditionalObject({ projectName: 'app', name: 'cart debounces', ...rescue(1) });

  await history().recordFlaky('app', ['cart debounces'], rescue(2));

  expect(object.body()).toMatchObject({ rescueCount: 2, rescues: [rescue(1), rescue(2)] });
});

test('the evidence of an object in the first format is its one rescue', async () => {
  conditionalObject({ projectName: 'app', name: 'cart debounces', ...rescue(1) });

  await expect(history().evidence('app', 'cart debounces')).resolves.toEqual({
    projectName: 'app',
    name: 'cart debounces',
    ...rescue(1),
    rescueCount: 1,
    rescues: [rescue(1)],
  });
});

test(`the list keeps the latest ${MAX_RESCUES} rescues and the count keeps them all`, async () => {
  const listed = Array.from({ length: MAX_RESCUES }, (_, index) => rescue(index + 1));
  const object = conditionalObject({
    projectName: 'app',
    name: 'cart debounces',
    ...listed.at(-1),
    rescueCount: 70,
    rescues: listed,
  });

  await history().recordFlaky('app', ['cart debounces'], rescue(99));

  const stored = object.body()!;
  expect(stored.rescueCount).toBe(71);
  expect(stored.rescues).toHaveLength(MAX_RESCUES);
  expect(stored.rescues[0]).toEqual(rescue(2));
  expect(stored.rescues.at(-1)).toEqual(rescue(99));
});

test('a rescue recorded again (a retried record step) is counted once', async () => {
  const object = conditionalObject();
  await history().recordFlaky('app', ['cart debounces'], rescue(1));

  await history().recordFlaky('app', ['cart debounces'], rescue(1));

  expect(object.body()).toMatchObject({ rescueCount: 1, rescues: [rescue(1)] });
  // Its create was refused (the object exists); having read it, nothing is written again.
  const writes = s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
  expect(writes.map((input) => input.IfMatch)).toEqual([undefined, undefined]);
});

test('two concurrent rescues of one test are both counted', async () => {
  const object = conditionalObject();

  await Promise.all([
    history().recordFlaky('app', ['cart debounces'], rescue(1)),
    history().recordFlaky('app', ['cart debounces'], rescue(2)),
  ]);

  expect(object.body()?.rescueCount).toBe(2);
  expect(
    object
      .body()
      ?.rescues.map((known) => known.remediationId)
      .sort(),
  ).toEqual(['rem-1', 'rem-2']);
});

test('a 409 ConditionalRequestConflict on create is retried', async () => {
  s3.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404));
  s3.on(PutObjectCommand).rejectsOnce(s3Error('ConditionalRequestConflict', 409)).resolves({});

  await history().recordFlaky('app', ['cart debounces'], rescue(1));

  expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 2);
});

test('gives up after a bounded number of lost races, naming the object and the rescue', async () => {
  s3.on(GetObjectCommand).resolves({
    ETag: '"v1"',
    Body: { transformToString: () => Promise.resolve(JSON.stringify({ ...rescue(1) })) } as never,
  });
  s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));

  await expect(history(3).recordFlaky('app', ['cart debounces'], rescue(2))).rejects.toThrow(
    new FlakyTestHistoryConflictError(
      `s3://${BUCKET}/${KEY} changed under every one of 3 writes: the rescue of rem-2 is not recorded`,
    ),
  );
  expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 3);
});

test('other errors are not retried', async () => {
  s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));

  await expect(history().recordFlaky('app', ['cart debounces'], rescue(1))).rejects.toThrow('AccessDenied');
  expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
});
