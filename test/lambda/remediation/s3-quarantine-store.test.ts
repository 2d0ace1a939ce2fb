/**
 * What the quarantine store does when a conditional write fails. s3rver ignores If-Match/If-None-Match on
 * PUT, so S3 is played here by the in-memory object of helpers/conditional-s3 that answers as the S3 user
 * guide says (conditional writes): 412 PreconditionFailed when the ETag differs or, for If-None-Match: *,
 * the object exists; 409 ConditionalRequestConflict for a concurrent conflicting write is mocked per test.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { QuarantineFile, quarantineTest } from '../../../core/remediation/quarantine';
import {
  QuarantineConflictError,
  quarantineKey,
  S3QuarantineStore,
} from '../../../lambda/remediation/s3-quarantine-store';
import { conditionalObject as conditionalS3Object, s3Error } from '../../helpers/conditional-s3';

const NOW = new Date('2026-12-06T10:00:00Z');
const BUCKET = 'pipemend-datalake';
const s3 = mockClient(S3Client);

/** Project app's quarantine file, honouring conditional writes. */
const conditionalObject = () => conditionalS3Object<QuarantineFile>(s3, BUCKET, quarantineKey('app'));

const add = (name: string) => (file: QuarantineFile) => {
  const { file: next, entry } = quarantineTest(
    file,
    { name, owner: 'team-cart', reason: 'timing-dependent', origin: 'manual' },
    NOW,
  );
  return { file: next, result: entry };
};

beforeEach(() => s3.reset());

test('two concurrent quarantines of one project both end up in the file', async () => {
  const object = conditionalObject();
  const store = new S3QuarantineStore(BUCKET, new S3Client({ region: 'eu-west-1' }));
  await Promise.all([
    store.update('app', NOW, add('cart debounces')),
    store.update('app', NOW, add('login')),
  ]);
  expect(object.body()?.tests.map((test) => test.name)).toEqual(['cart debounces', 'login']);
  // One of the two lost the race (412), read the other's file and wrote again.
  expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 3);
});

test('a write that loses the race rereads and writes with the new ETag', async () => {
  s3.on(GetObjectCommand)
    .resolvesOnce({
      ETag: '"old"',
      Body: { transformToString: () => Promise.resolve(JSON.stringify(emptyFile())) } as never,
    })
    .resolves({
      ETag: '"new"',
      Body: { transformToString: () => Promise.resolve(JSON.stringify(emptyFile())) } as never,
    });
  s3.on(PutObjectCommand).rejectsOnce(s3Error('PreconditionFailed', 412)).resolves({});
  await new S3QuarantineStore(BUCKET, new S3Client({ region: 'eu-west-1' })).update('app', NOW, add('login'));
  expect(s3).toHaveReceivedNthCommandWith(2, PutObjectCommand, { IfMatch: '"old"' });
  expect(s3).toHaveReceivedNthCommandWith(4, PutObjectCommand, { IfMatch: '"new"' });
});

test('a 409 ConditionalRequestConflict on create is retried', async () => {
  s3.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404));
  s3.on(PutObjectCommand).rejectsOnce(s3Error('ConditionalRequestConflict', 409)).resolves({});
  await new S3QuarantineStore(BUCKET, new S3Client({ region: 'eu-west-1' })).update('app', NOW, add('login'));
  expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 2);
  expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { IfNoneMatch: '*' });
});

test('gives up after a bounded number of lost races, saying another writer is busy', async () => {
  s3.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404));
  s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
  const update = new S3QuarantineStore(BUCKET, new S3Client({ region: 'eu-west-1' }), 3).update(
    'app',
    NOW,
    add('login'),
  );
  await expect(update).rejects.toThrow(
    new QuarantineConflictError(
      'the quarantine file of project app changed under every one of 3 writes: another writer is busy with it; try again',
    ),
  );
  expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 3);
});

test('other errors are not retried', async () => {
  s3.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404));
  s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
  await expect(
    new S3QuarantineStore(BUCKET, new S3Client({ region: 'eu-west-1' })).update('app', NOW, add('login')),
  ).rejects.toThrow('AccessDenied');
  expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
});

test('a refused change writes nothing', async () => {
  s3.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404));
  const refuse = () => {
    throw new Error('refused');
  };
  await expect(
    new S3QuarantineStore(BUCKET, new S3Client({ region: 'eu-west-1' })).update('app', NOW, refuse),
  ).rejects.toThrow('refused');
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
});

test('a stored file that is not JSON is named, not overwritten', async () => {
  s3.on(GetObjectCommand).resolves({
    ETag: '"x"',
    Body: { transformToString: () => Promise.resolve('<html>') } as never,
  });
  await expect(
    new S3QuarantineStore(BUCKET, new S3Client({ region: 'eu-west-1' })).update('app', NOW, add('login')),
  ).rejects.toThrow(
    's3://pipemend-datalake/quarantine/project=app/quarantine.json is not JSON: fix or delete it',
  );
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
});

function emptyFile(): QuarantineFile {
  return { version: 1, project: 'app', updatedAt: '2026-12-06T09:00:00Z', tests: [] };
}
