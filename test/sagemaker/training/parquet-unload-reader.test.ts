import { gzipSync } from 'node:zlib';

import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { readUnloadedSample } from '../../../sagemaker/training/parquet-unload-reader';

const values = (first: number): string =>
  [first, ...Array.from({ length: FEATURE_DIMENSION - 1 }, () => 1)].join(',');
const line = (project: string, date: string, id: string, first: number, builds: number, forest: boolean) =>
  `${project},${date},${id},${values(first)},${builds},${forest}`;

test('reads UNLOADed gzip files bucket by bucket, in order, into baselines and forest rows', async () => {
  const prefix = 'training/v1/sample/';
  // One project's rows spread over two files in no order, another project in another bucket.
  const files: Record<string, Buffer> = {
    [`${prefix}project_bucket=7/a.gz`]: gzipSync(
      [
        line('api', '2026-11-02', 'api:3', 30, 300, true),
        line('api', '2026-11-01', 'api:1', 10, 300, false),
      ].join('\n') + '\n',
    ),
    [`${prefix}project_bucket=7/b.gz`]: gzipSync(
      `${line('api', '2026-11-01', 'api:2', 20, 300, true)}\nnot,a,row\n`,
    ),
    [`${prefix}project_bucket=12/c.gz`]: gzipSync(`${line('web', '2026-11-01', 'web:1', 5, 40, true)}\n`),
  };
  const s3 = mockClient(S3Client);
  s3.on(ListObjectsV2Command).resolves({
    Contents: Object.keys(files).map((Key) => ({ Key, Size: files[Key]!.length })),
  });
  s3.on(GetObjectCommand).callsFake(async ({ Key }: { Key: string }) => ({
    Body: { transformToByteArray: async () => new Uint8Array(files[Key]!) },
  }));
  const sample = await readUnloadedSample(new S3Client({}), 'lake', prefix, 20);
  expect(sample.rows.map((r) => r.buildId)).toEqual(['api:2', 'api:3', 'web:1']);
  expect(sample.baselines.api!.median[0]).toBe(20);
  expect(sample.baselines.web!.count).toBe(1);
  expect(sample.projectBuilds).toEqual({ api: 300, web: 40 });
  expect(sample.malformed).toEqual([
    `${prefix}project_bucket=7/b.gz:2: sample row has 3 columns, expected 17`,
  ]);
  s3.restore();
});
