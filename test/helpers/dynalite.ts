/** A dynalite server on loopback, and a DynamoDB client pointing at it. Tables are the caller's. */
import { AddressInfo } from 'node:net';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number }) => {
  listen(port: number, host: string, callback: () => void): void;
  address(): AddressInfo;
  close(callback: () => void): void;
};

export interface RunningDynalite {
  client: DynamoDBClient;
  /** Destroys the client and closes the server. */
  stop(): Promise<void>;
}

export async function startDynalite(): Promise<RunningDynalite> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${server.address().port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    client,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(resolve));
    },
  };
}
