/** Classify's read of the quarantine: no file, or a file it cannot use, quarantines nothing. */
import { GetObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { QuarantineFile } from '../../../core/remediation/quarantine';
import { quarantineKey, S3QuarantineSource } from '../../../lambda/remediation/s3-quarantine-store';

const BUCKET = 'pipemend-datalake';
const KEY = quarantineKey('app');
const s3 = mockClient(S3Client);

const file: QuarantineFile = {
  version: 1,
  project: 'app',
  updatedAt: '2026-12-06T10:00:00Z',
  tests: [
    {
      name: 'cart debounces',
      owner: 'team-cart',
      reason: 'timing-dependent',
      quarantinedAt: '2026-12-06T10:00:00Z',
      expiresAt: '2026-12-20T10:00:00Z',
      origin: 'manual',
    },
    {
      name: 'pay total',
      owner: 'team-pay',
      reason: 'timing-dependent',
      quarantinedAt: '2026-11-01T10:00:00Z',
      expiresAt: '2026-11-15T10:00:00Z',
      origin: 'manual',
    },
  ],
};

const text = (value: string) => ({ transformToString: () => Promise.resolve(value) }) as never;

function stored(body: string): void {
  s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: KEY }).resolves({ Contents: [{ Key: KEY }] });
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: KEY }).resolves({ Body: text(body), ETag: '"1"' });
}

let warnings: { message: string; details: Record<string, unknown> }[];
let source: S3QuarantineSource;

beforeEach(() => {
  s3.reset();
  warnings = [];
  source = new S3QuarantineSource(BUCKET, new S3Client({}), (message, details) =>
    warnings.push({ message, details }),
  );
});

test('a project without a quarantine file has no quarantined tests, without a read or a warning', async () => {
  s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: KEY }).resolves({});

  await expect(source.quarantinedTests('app')).resolves.toEqual([]);
  expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
  expect(warnings).toEqual([]);
});

test("an object whose key only starts with the file's key is not the file", async () => {
  s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: KEY }).resolves({
    Contents: [{ Key: `${KEY}.bak` }],
  });

  await expect(source.quarantinedTests('app')).resolves.toEqual([]);
  expect(s3).not.toHaveReceivedCommand(GetObjectCommand);
});

test('every entry of the file is returned, expired ones too, for the policy to judge with its clock', async () => {
  stored(JSON.stringify(file));

  await expect(source.quarantinedTests('app')).resolves.toEqual(file.tests);
  expect(warnings).toEqual([]);
});

test('a file that is not JSON quarantines nothing and is reported with its key', async () => {
  stored('{"version": 1, "tests": [');

  await expect(source.quarantinedTests('app')).resolves.toEqual([]);
  expect(warnings).toEqual([
    {
      message: 'Quarantine file unreadable: its tests are judged as if not quarantined',
      details: {
        bucket: BUCKET,
        key: KEY,
        error: `QuarantineError: s3://${BUCKET}/${KEY} is not JSON: fix or delete it`,
      },
    },
  ]);
});

test('a file with an entry without an owner quarantines nothing and is reported with its key', async () => {
  stored(JSON.stringify({ ...file, tests: [{ ...file.tests[0], owner: '' }] }));

  await expect(source.quarantinedTests('app')).resolves.toEqual([]);
  expect(warnings).toEqual([
    expect.objectContaining({
      details: expect.objectContaining({
        key: KEY,
        error: expect.stringContaining('quarantine file is malformed at tests.0.owner'),
      }),
    }),
  ]);
});

test('a file of another version quarantines nothing and is reported with its key', async () => {
  stored(JSON.stringify({ ...file, version: 2 }));

  await expect(source.quarantinedTests('app')).resolves.toEqual([]);
  expect(warnings[0]?.details).toMatchObject({
    key: KEY,
    error: expect.stringContaining('quarantine file version 2 is not supported'),
  });
});

test('a read that is denied (e.g. by the key policy) quarantines nothing and is reported with its key', async () => {
  s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: KEY }).resolves({ Contents: [{ Key: KEY }] });
  s3.on(GetObjectCommand).rejects(
    new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    }),
  );

  await expect(source.quarantinedTests('app')).resolves.toEqual([]);
  expect(warnings[0]?.details).toEqual({ bucket: BUCKET, key: KEY, error: 'AccessDenied: Access Denied' });
});

test('a file deleted between the listing and the read quarantines nothing, without a warning', async () => {
  s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: KEY }).resolves({ Contents: [{ Key: KEY }] });
  s3.on(GetObjectCommand).rejects(
    new S3ServiceException({
      name: 'NoSuchKey',
      $fault: 'client',
      $metadata: { httpStatusCode: 404 },
      message: 'The specified key does not exist.',
    }),
  );

  await expect(source.quarantinedTests('app')).resolves.toEqual([]);
  expect(warnings).toEqual([]);
});
