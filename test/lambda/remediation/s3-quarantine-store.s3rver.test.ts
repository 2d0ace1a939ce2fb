/**
 * The quarantine store through the real SDK against s3rver: keys, bodies, ETags and the conditional
 * headers on the wire. s3rver 3.7 ignores If-Match/If-None-Match on PUT, so what happens when a condition
 * fails is tested in s3-quarantine-store.test.ts.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { quarantineTest } from '../../../core/remediation/quarantine';
import { quarantineKey, S3QuarantineStore } from '../../../lambda/remediation/s3-quarantine-store';
import { RunningS3rver, startS3rver } from '../../helpers/s3rver';

const NOW = new Date('2026-12-06T10:00:00Z');
const BUCKET = 'pipemend-datalake';

describe('S3QuarantineStore through the real SDK against s3rver on loopback', () => {
  let server: RunningS3rver;
  let client: S3Client;
  /** The conditional headers of each PUT as the SDK sent them. */
  const conditions: Record<string, string | undefined>[] = [];

  beforeAll(async () => {
    server = await startS3rver(BUCKET);
    client = server.client;
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { method?: string; headers?: Record<string, string> };
        if (request.method === 'PUT') {
          conditions.push({
            ifMatch: request.headers?.['if-match'],
            ifNoneMatch: request.headers?.['if-none-match'],
          });
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'captureConditions' },
    );
  }, 120_000);

  afterAll(() => server.stop());

  const add = (name: string) => (file: Parameters<typeof quarantineTest>[0]) => {
    const { file: next, entry } = quarantineTest(
      file,
      { name, owner: 'team-cart', reason: 'timing-dependent', origin: 'manual' },
      NOW,
    );
    return { file: next, result: entry };
  };

  test('a project without a file reads as an empty quarantine without an ETag', async () => {
    await expect(new S3QuarantineStore(BUCKET, client).read('nothing-here', NOW)).resolves.toEqual({
      file: { version: 1, project: 'nothing-here', updatedAt: '2026-12-06T10:00:00Z', tests: [] },
    });
  });

  test('creates the file with If-None-Match: *, then replaces it with If-Match on the ETag it read', async () => {
    const store = new S3QuarantineStore(BUCKET, client);
    conditions.length = 0;
    await store.update('cart app', NOW, add('cart debounces'));
    const { etag } = await store.read('cart app', NOW);
    await store.update('cart app', NOW, add('login'));
    expect(conditions).toEqual([
      { ifMatch: undefined, ifNoneMatch: '*' },
      { ifMatch: etag, ifNoneMatch: undefined },
    ]);
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  test('the object at quarantine/project=<p>/quarantine.json is the JSON a buildspec reads', async () => {
    const object = await client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: quarantineKey('cart app') }),
    );
    expect(quarantineKey('cart app')).toBe('quarantine/project=cart%20app/quarantine.json');
    expect(object.ContentType).toBe('application/json');
    expect(JSON.parse(await object.Body!.transformToString())).toMatchObject({
      version: 1,
      project: 'cart app',
      tests: [
        { name: 'cart debounces', owner: 'team-cart', expiresAt: '2026-12-20T10:00:00Z' },
        { name: 'login', owner: 'team-cart' },
      ],
    });
  });

  test('lists the projects that have a quarantine file', async () => {
    await expect(new S3QuarantineStore(BUCKET, client).projects()).resolves.toEqual(['cart app']);
  });
});
