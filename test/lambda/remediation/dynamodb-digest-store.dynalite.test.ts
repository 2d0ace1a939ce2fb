/**
 * The daily digest items through the real SDK against dynalite on loopback, on a table shaped like the
 * stack's (partition key `pk`, the sparse day index): the ADD and if_not_exists update, a retried count,
 * concurrency, and the query by day.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

import {
  DIGEST_DAY_ATTRIBUTE,
  DIGEST_INDEX_NAME,
  DigestOccurrence,
} from '../../../core/remediation/notification-digest';
import { DynamoDbDigestStore } from '../../../lambda/remediation/dynamodb-digest-store';
import { RunningDynalite, startDynalite } from '../../helpers/dynalite';

const TABLE = 'remediation-state';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:pipemend';
let server: RunningDynalite;
let client: DynamoDBClient;
let store: DynamoDbDigestStore;

beforeAll(async () => {
  server = await startDynalite();
  client = server.client;
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: DIGEST_DAY_ATTRIBUTE, AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: DIGEST_INDEX_NAME,
          KeySchema: [
            { AttributeName: DIGEST_DAY_ATTRIBUTE, KeyType: 'HASH' },
            { AttributeName: 'pk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  store = new DynamoDbDigestStore(TABLE, client);
});

afterAll(async () => {
  await server.stop();
});

function occurrence(fingerprint: string, overrides: Partial<DigestOccurrence> = {}): DigestOccurrence {
  return {
    day: '2026-12-05',
    fingerprint,
    where: 'project:app',
    cause: 'npm ERR! code E<n>',
    topicArn: TOPIC,
    sent: false,
    at: '2026-12-05T10:00:00.000Z',
    remediationId: 'rem-1',
    ...overrides,
  };
}

describe('DynamoDbDigestStore (dynalite)', () => {
  test('occurrences of one failure add up; the first time seen stays, the last moves on', async () => {
    await store.countOccurrence(
      occurrence('f1', { sent: true, at: '2026-12-05T08:00:00.000Z', remediationId: 'r1' }),
    );
    await store.countOccurrence(occurrence('f1', { at: '2026-12-05T09:00:00.000Z', remediationId: 'r2' }));
    await store.countOccurrence(occurrence('f1', { at: '2026-12-05T12:00:00.000Z', remediationId: 'r3' }));

    const entries = await store.entriesOf('2026-12-05');
    expect(entries.filter((entry) => entry.fingerprint === 'f1')).toEqual([
      {
        day: '2026-12-05',
        fingerprint: 'f1',
        where: 'project:app',
        cause: 'npm ERR! code E<n>',
        topicArn: TOPIC,
        occurrences: 3,
        repeats: 2,
        firstSeen: '2026-12-05T08:00:00.000Z',
        lastSeen: '2026-12-05T12:00:00.000Z',
      },
    ]);
  });

  test('a count retried by the same remediation counts once', async () => {
    await store.countOccurrence(occurrence('f2', { remediationId: 'r1' }));
    await store.countOccurrence(occurrence('f2', { remediationId: 'r1' }));

    const [entry] = (await store.entriesOf('2026-12-05')).filter((e) => e.fingerprint === 'f2');
    expect(entry?.occurrences).toBe(1);
  });

  test('concurrent occurrences are all counted', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.countOccurrence(occurrence('f3', { remediationId: `r${i}` })),
      ),
    );

    const [entry] = (await store.entriesOf('2026-12-05')).filter((e) => e.fingerprint === 'f3');
    expect(entry).toMatchObject({ occurrences: 20, repeats: 20 });
  });

  test('the query by day returns only that day', async () => {
    await store.countOccurrence(occurrence('f4', { day: '2026-12-06', remediationId: 'r1' }));

    const days = new Set((await store.entriesOf('2026-12-06')).map((entry) => entry.day));
    expect([...days]).toEqual(['2026-12-06']);
  });

  test('the item expires three days after its day', async () => {
    await store.countOccurrence(occurrence('f5'));

    const { Item } = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'digest#2026-12-05#f5' } } }),
    );
    expect(Item?.expiresAt).toEqual({ N: String(Date.parse('2026-12-09T00:00:00Z') / 1000) });
  });

  test('a digest part marked sent is found sent; another part is not', async () => {
    await store.markSent('2026-12-05', TOPIC, 1, '2026-12-06T08:00:01.000Z');

    expect(await store.isSent('2026-12-05', TOPIC, 1)).toBe(true);
    expect(await store.isSent('2026-12-05', TOPIC, 2)).toBe(false);
  });
});
