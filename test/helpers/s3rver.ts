/** An s3rver on loopback with the given buckets, and an S3 client pointing at it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface RunningS3rver {
  client: S3Client;
  /** Destroys the client, closes the server and removes its directory. */
  stop(): Promise<void>;
}

export async function startS3rver(...buckets: string[]): Promise<RunningS3rver> {
  const directory = await mkdtemp(path.join(tmpdir(), 'pipemend-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    client,
    stop: async () => {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
