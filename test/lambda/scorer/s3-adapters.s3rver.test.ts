import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { BUILD_ID, buildRecord, END_TIME, historyVectors, manifest, PROJECT } from './fixtures';
import { BuildRecord, buildRecordKey } from '../../../core/collection/build-record';
import { computeBaseline } from '../../../core/scoring/baseline';
import { CURRENT_MODEL_MANIFEST_KEY } from '../../../core/scoring/model-manifest';
import { BuildRecordNotFoundError } from '../../../core/scoring/scoring-errors';
import { trendPointOf } from '../../../core/scoring/trend';
import { S3BuildRecords } from '../../../lambda/scorer/s3-build-records';
import { S3ManifestSource } from '../../../lambda/scorer/s3-manifest-source';
import { baselineCacheKey, S3ProjectHistory } from '../../../lambda/scorer/s3-project-history';
import { RunningS3rver, startS3rver } from '../../helpers/s3rver';

describe('scorer S3 adapters through the real SDK against s3rver on loopback', () => {
  let server: RunningS3rver;
  let client: S3Client;
  const bucket = 'pipemend-scoring';
  const now = Date.parse(END_TIME);
  const put = (Key: string, Body: string) => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
  const rows = historyVectors(30);

  beforeAll(async () => {
    server = await startS3rver(bucket);
    client = server.client;
    await Promise.all(
      rows.map((row, i) =>
        put(
          `features/project=${PROJECT}/date=2026-11-${20 - (i % 3)}/${PROJECT}:h${i}.csv`,
          `${row.join(',')}\n`,
        ),
      ),
    );
    // The build being scored, its own row (excluded from its baseline) and a malformed row (skipped).
    await put(
      `features/project=${PROJECT}/date=2026-11-21/${BUILD_ID}.csv`,
      '9999,9999,9999,9999,9999,9999,9999,9999,9999,1,99,99',
    );
    await put(`features/project=${PROJECT}/date=2026-11-21/${PROJECT}:broken.csv`, '1,2,3');
    await put(buildRecordKey(buildRecord()), JSON.stringify(buildRecord()));
  }, 120_000);

  afterAll(async () => {
    await server.stop();
  });

  test('the history baseline is the median/MAD of the recent rows, without the scored build or malformed rows', async () => {
    const history = new S3ProjectHistory(client, bucket, { now: () => now });
    const baseline = await history.baseline(PROJECT, BUILD_ID);
    expect(baseline).toEqual(computeBaseline(PROJECT, rows));
  });

  test('the computed baseline is cached in S3 and an hour-old cache is recomputed and overwritten', async () => {
    const key = baselineCacheKey(PROJECT);
    const stale = { computedAt: now - 3_600_001, baseline: computeBaseline(PROJECT, rows.slice(0, 5)) };
    await put(key, JSON.stringify(stale));
    const fresh = await new S3ProjectHistory(client, bucket, { now: () => now }).baseline(PROJECT, BUILD_ID);
    expect(fresh?.count).toBe(30);
    const stored = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(JSON.parse(await stored.Body!.transformToString())).toEqual({ computedAt: now, baseline: fresh });
  });

  test('a fresh cached baseline is used as it is, without reading the history', async () => {
    const cached = computeBaseline(PROJECT, rows.slice(0, 7));
    await put(baselineCacheKey(PROJECT), JSON.stringify({ computedAt: now - 60_000, baseline: cached }));
    await expect(
      new S3ProjectHistory(client, bucket, { now: () => now }).baseline(PROJECT, BUILD_ID),
    ).resolves.toEqual(cached);
  });

  test('a project without history has no baseline', async () => {
    await expect(
      new S3ProjectHistory(client, bucket, { now: () => now }).baseline('unknown', 'unknown:1'),
    ).resolves.toBeNull();
  });

  test('the build record is read from its deterministic key', async () => {
    const records = new S3BuildRecords(client, bucket, { attempts: 1 });
    await expect(records.load(BUILD_ID, new Date(END_TIME))).resolves.toEqual(buildRecord());
  });

  test('a build ending just after midnight is found from the day before', async () => {
    const records = new S3BuildRecords(client, bucket, { attempts: 1 });
    await expect(records.load(BUILD_ID, new Date('2026-11-22T00:00:30Z'))).resolves.toMatchObject({
      buildId: BUILD_ID,
    });
  });

  test('a record that never arrives is a BuildRecordNotFoundError after the configured reads', async () => {
    const sleeps: number[] = [];
    const records = new S3BuildRecords(client, bucket, {
      attempts: 3,
      initialDelayMillis: 10,
      sleep: async (millis) => {
        sleeps.push(millis);
      },
    });
    await expect(records.load(`${PROJECT}:missing`, new Date(END_TIME))).rejects.toBeInstanceOf(
      BuildRecordNotFoundError,
    );
    expect(sleeps).toEqual([10, 20]);
  });

  test('a record that arrives while waiting is returned', async () => {
    const late = buildRecord({
      buildId: `${PROJECT}:late`,
      buildArn: 'arn:aws:codebuild:eu-west-1:123456789012:build/app-build:late',
    });
    const records = new S3BuildRecords(client, bucket, {
      attempts: 3,
      sleep: async () => {
        await put(buildRecordKey(late), JSON.stringify(late));
      },
    });
    await expect(records.load(late.buildId, new Date(END_TIME))).resolves.toEqual(late);
  });

  test('the manifest is absent (null) until training writes it, then parsed', async () => {
    await expect(new S3ManifestSource(client, bucket).current()).resolves.toBeNull();
    await put(CURRENT_MODEL_MANIFEST_KEY, JSON.stringify(manifest()));
    await expect(new S3ManifestSource(client, bucket).current()).resolves.toEqual(manifest());
  });

  test('an invalid manifest is an error naming the object and the field', async () => {
    await put(CURRENT_MODEL_MANIFEST_KEY, JSON.stringify({ ...manifest(), threshold: 'high' }));
    await expect(new S3ManifestSource(client, bucket).current()).rejects.toThrow(
      `model manifest s3://${bucket}/${CURRENT_MODEL_MANIFEST_KEY} is invalid: threshold: `,
    );
  });

  describe("the trend test's recent builds", () => {
    const project = 'svc-trend';
    const record = (n: number, endTime: string, overrides: Partial<BuildRecord> = {}): BuildRecord =>
      buildRecord({
        buildId: `${project}:b${n}`,
        buildArn: `arn:aws:codebuild:eu-west-1:123456789012:build/${project}:b${n}`,
        projectName: project,
        endTime,
        ...overrides,
      });
    const stored = [
      record(1, '2026-11-20T08:00:00.000Z'),
      record(2, '2026-11-20T16:00:00.000Z', { status: 'FAILED' }),
      record(3, '2026-11-21T08:00:00.000Z'),
    ];
    const scored = record(9, END_TIME);
    /** The client, counting the objects it reads. */
    const counting = () => {
      const counter = { gets: 0, lists: 0, client: undefined as unknown as S3Client };
      counter.client = {
        send: (command: unknown) => {
          if (command instanceof GetObjectCommand) counter.gets++;
          if (command instanceof ListObjectsV2Command) counter.lists++;
          return client.send(command as GetObjectCommand);
        },
      } as unknown as S3Client;
      return counter;
    };

    // 20 days before the scored build: older than the trend test's reference and window (17 days).
    const tooOld = record(0, '2026-11-01T08:00:00.000Z');

    beforeAll(async () => {
      for (const r of [...stored, scored, tooOld]) await put(buildRecordKey(r), JSON.stringify(r));
      await put(`builds/project=${project}/date=2026-11-21/${project}:torn.json`, '{"schemaVersion":1');
    });

    test('are the stored records as points in time with their status, without the scored build, invalid records or records older than 17 days', async () => {
      const points = await new S3ProjectHistory(client, bucket).recent(
        project,
        scored.buildId,
        new Date(END_TIME),
      );
      expect([...points].sort((a, b) => a.at - b.at)).toEqual(stored.map((r) => trendPointOf(r)));
    });

    test('keep a dozen builds, spread over it, of a busy reference day', async () => {
      const busy = (n: number) =>
        record(n, `2026-11-10T${String(n).padStart(2, '0')}:00:00.000Z`, {
          projectName: 'svc-busy',
          buildId: `svc-busy:b${n}`,
          buildArn: `arn:aws:codebuild:eu-west-1:123456789012:build/svc-busy:b${n}`,
        });
      const day = Array.from({ length: 14 }, (_, n) => busy(n));
      for (const r of day) await put(buildRecordKey(r), JSON.stringify(r));
      const points = await new S3ProjectHistory(client, bucket).recent(
        'svc-busy',
        scored.buildId,
        new Date(END_TIME),
      );
      // Spread over the day's listing by write time; s3rver's LastModified has whole seconds, so which
      // twelve is not asserted (selectTrendHistory's test asserts the spread).
      expect(points).toHaveLength(12);
      expect(day.map((r) => trendPointOf(r))).toEqual(expect.arrayContaining(points));
    });

    test('a warm container reads only the records it has not seen', async () => {
      const counter = counting();
      const history = new S3ProjectHistory(counter.client, bucket, { now: () => now });
      await history.recent(project, scored.buildId, new Date(END_TIME));
      const first = { gets: counter.gets, lists: counter.lists };
      const newer = record(4, '2026-11-21T12:00:00.000Z');
      await put(buildRecordKey(newer), JSON.stringify(newer));
      const points = await history.recent(project, scored.buildId, new Date(END_TIME));
      // The new record and the invalid one (skipped again, never cached) are read; the rest are known.
      expect(counter.gets - first.gets).toBe(2);
      // 18 days listed the first time; then only today and yesterday, which a recent window changes.
      expect(first.lists).toBe(18);
      expect(counter.lists - first.lists).toBe(2);
      expect(points).toContainEqual(trendPointOf(newer));
      expect(points).toHaveLength(4);
    });
  });
});
