/**
 * The data-lake side of training: reads the window's feature rows and the remediation labels, writes
 * training artifacts. One adapter shared by the pipeline's Lambda steps, the embedded trainer and the
 * drift check (the local replay reads the same layout from files).
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';

import { FeatureRow, MalformedFeatureRowError, parseFeatureCsv, parseFeatureRowKey } from './window';

/** Concurrent GETs: fast enough for 90k rows in a Lambda, gentle on S3 request rates per prefix. */
const READ_CONCURRENCY = 32;

export interface FeatureRowsRead {
  readonly rows: FeatureRow[];
  /** Keys whose rows could not be parsed, with why; they stay in the lake and are reported, not trained on. */
  readonly malformed: string[];
}

export class S3TrainingData {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** Every feature row of every project dated on or after `fromDate` (`YYYY-MM-DD`). */
  async readFeatureRows(fromDate: string): Promise<FeatureRowsRead> {
    const projectPrefixes = await this.listPrefixes('features/');
    const keys: string[] = [];
    for (const projectPrefix of projectPrefixes) {
      // Keys sort by date inside a project, so the window starts right after `date=<fromDate>`'s predecessor.
      keys.push(...(await this.listKeys(projectPrefix, `${projectPrefix}date=${fromDate}`)));
    }
    const rows: FeatureRow[] = [];
    const malformed: string[] = [];
    await forEachConcurrently(keys, READ_CONCURRENCY, async (key) => {
      const location = parseFeatureRowKey(key);
      if (!location || location.date < fromDate) return;
      try {
        rows.push({ ...location, values: parseFeatureCsv(key, await this.getText(key)) });
      } catch (error) {
        if (!(error instanceof MalformedFeatureRowError)) throw error;
        malformed.push(error.message);
      }
    });
    rows.sort((a, b) => a.date.localeCompare(b.date) || a.buildId.localeCompare(b.buildId));
    return { rows, malformed: malformed.sort() };
  }

  /** The text of every label object under `labels/`. */
  async readLabelTexts(): Promise<string[]> {
    const keys = await this.listKeys('labels/');
    const texts: string[] = [];
    await forEachConcurrently(keys, READ_CONCURRENCY, async (key) => {
      texts.push(await this.getText(key));
    });
    return texts;
  }

  /** Keys under a prefix (all pages), optionally starting after a key. */
  async listKeys(prefix: string, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of this.listPages({ prefix, startAfter })) {
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    }
    return keys;
  }

  async getText(key: string): Promise<string> {
    const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!response.Body) throw new Error(`s3://${this.bucket}/${key} has no body`);
    return response.Body.transformToString('utf-8');
  }

  async putText(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.putText(key, `${JSON.stringify(value, null, 2)}\n`, 'application/json');
  }

  private async listPrefixes(prefix: string): Promise<string[]> {
    const prefixes: string[] = [];
    for await (const page of this.listPages({ prefix, delimiter: '/' })) {
      for (const common of page.CommonPrefixes ?? []) if (common.Prefix) prefixes.push(common.Prefix);
    }
    return prefixes;
  }

  /** Every page of a listing under `prefix`; `startAfter` positions the first page, the tokens the rest. */
  private async *listPages(listing: {
    prefix: string;
    delimiter?: string;
    startAfter?: string;
  }): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: listing.prefix,
          ...(listing.delimiter ? { Delimiter: listing.delimiter } : {}),
          ...(listing.startAfter && !token ? { StartAfter: listing.startAfter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

/** `s3://bucket/key/prefix` → `{ bucket, key }`. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
}

async function forEachConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(workers);
}
