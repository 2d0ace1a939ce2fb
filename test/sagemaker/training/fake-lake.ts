/** An in-memory data lake behind aws-sdk-client-mock: List (prefix, delimiter, start-after, pages), Get, Put. */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

export class FakeLake {
  readonly objects = new Map<string, string>();
  readonly s3 = new S3Client({ region: 'eu-west-1' });
  readonly mock = mockClient(this.s3);

  constructor(private readonly pageSize = 1000) {
    const s3Mock = this.mock;
    s3Mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2Command['input']) => this.list(input));
    s3Mock.on(GetObjectCommand).callsFake((input: GetObjectCommand['input']) => {
      const text = this.objects.get(input.Key!);
      if (text === undefined) throw new NoSuchKey({ message: `no ${input.Key}`, $metadata: {} });
      return {
        Body: {
          transformToString: async () => text,
          transformToByteArray: async () => new Uint8Array(Buffer.from(text, 'utf8')),
        },
      };
    });
    s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommand['input']) => {
      this.objects.set(input.Key!, String(input.Body));
      return {};
    });
  }

  put(key: string, text: string): void {
    this.objects.set(key, text);
  }

  json(key: string): unknown {
    const text = this.objects.get(key);
    if (text === undefined) throw new Error(`no object ${key}`);
    return JSON.parse(text);
  }

  private list(input: ListObjectsV2Command['input']) {
    const prefix = input.Prefix ?? '';
    const after = input.ContinuationToken ?? input.StartAfter ?? '';
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    if (input.Delimiter) {
      const prefixes = [
        ...new Set(
          keys
            .filter((k) => k.slice(prefix.length).includes(input.Delimiter!))
            .map((k) => `${prefix}${k.slice(prefix.length).split(input.Delimiter!)[0]}${input.Delimiter}`),
        ),
      ];
      return { CommonPrefixes: prefixes.map((Prefix) => ({ Prefix })), IsTruncated: false };
    }
    const page = keys.slice(0, this.pageSize);
    const truncated = keys.length > page.length;
    return {
      Contents: page.map((Key) => ({ Key })),
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: page[page.length - 1] } : {}),
    };
  }
}
