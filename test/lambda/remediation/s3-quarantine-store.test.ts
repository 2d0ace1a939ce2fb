/**
 * What the quarantine store does when a conditional write fails. s3rver ignores If-Match/If-None-Match on
 * PUT, so S3 is played here by a small in-memory object that answers as the S3 user guide says
 * (conditional writes): 412 PreconditionFailed when the ETag differs or, for If-None-Match: *, the object
 * exists; 409 ConditionalRequestConflict for a concurrent conflicting write.
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { QuarantineFile, quarantineTest } from '../../../core/remediation/quarantine';
import {
  QuarantineConflictError,
  quarantineKey,
  S3QuarantineStore,
} from '../../../lambda/remediation/s3-quarantine-store';

const NOW = new Date('2026-12-06T10:00:00Z');
const BUCKET = 'pipemend-datalake';
const s3 = mockClient(S3Client);

function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

/** One S3 object honouring conditional writes. */
function conditionalObject(): { body(): QuarantineFile | undefined } {
  let current: { body: string; etag: string } | undefined;
  let version = 0;
  s3.on(GetObjectCommand, { Bucket: BUCKET, Key: quarantineKey('app') }).callsFake(async () => {
    // Answer after a turn of the event loop, as a network call would: concurrent updates interleave.
    await new Promise((resolve) => setImmediate(resolve));
    if (!current) throw s3Error('NoSuchKey', 404);
    const { body, etag } = current;
    return { ETag: etag, Body: { transformToString: () => Promise.resolve(body) } };
  });
  s3.on(PutObjectCommand, { Bucket: BUCKET, Key: quarantineKey('app') }).callsFake(
    async (input: PutObjectCommandInput) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (input.IfNoneMatch === '*' && current) throw s3Error('PreconditionFailed', 412);
      if (input.IfMatch !== undefined && input.IfMatch !== current?.etag)
        throw s3Error('PreconditionFailed', 412);
      current = { body: String(input.Body), etag: `"v${++version}"` };
      return { ETag: current.etag };
    },
  );
  return { body: () => (current ? (JSON.parse(current.body) as QuarantineFile) : undefined) };
}

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
