/**
 * Reads the training window's sample as Athena `UNLOAD` wrote it (`athenaUnloadSampleSql`): gzip text
 * files under `<prefix>project_bucket=<n>/`, in no order between files. One bucket at a time is read,
 * sorted by project, date and build id and folded into the accumulator, so memory holds one bucket of the
 * sample (≈ 1/64 of it) plus the forest rows. Used by the AWS trainers once they start the UNLOAD; the
 * query itself is not started here.
 */
import { gunzipSync } from 'node:zlib';

import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

import { parseSampleCsvLine, SampleRow, WindowSample, WindowSampleAccumulator } from './parquet-window';

const BUCKET_DIRECTORY = /project_bucket=(\d+)\//;

export async function readUnloadedSample(
  s3: S3Client,
  bucket: string,
  prefix: string,
  minBuildsPerProject: number,
): Promise<WindowSample> {
  const byBucket = new Map<number, string[]>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const match = object.Key ? BUCKET_DIRECTORY.exec(object.Key.slice(prefix.length)) : null;
      if (!match || !object.Key || (object.Size ?? 1) === 0) continue;
      const n = Number(match[1]);
      byBucket.set(n, [...(byBucket.get(n) ?? []), object.Key]);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  const accumulator = new WindowSampleAccumulator(minBuildsPerProject);
  const malformed: string[] = [];
  for (const n of [...byBucket.keys()].sort((a, b) => a - b)) {
    const rows: SampleRow[] = [];
    for (const key of byBucket.get(n)!.sort()) {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new Error(`s3://${bucket}/${key} has no body`);
      const bytes = Buffer.from(await response.Body.transformToByteArray());
      // Athena gzips TEXTFILE output; tolerate a plain file too.
      const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
      text.split('\n').forEach((line, index) => {
        if (line.trim() === '') return;
        try {
          rows.push(parseSampleCsvLine(line));
        } catch (error) {
          malformed.push(`${key}:${index + 1}: ${(error as Error).message}`);
        }
      });
    }
    rows.sort(
      (a, b) =>
        a.project.localeCompare(b.project) ||
        a.date.localeCompare(b.date) ||
        a.buildId.localeCompare(b.buildId),
    );
    for (const row of rows) accumulator.add(row);
  }
  return accumulator.finish(malformed);
}
