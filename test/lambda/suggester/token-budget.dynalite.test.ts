/**
 * The daily token budget through the real SDK against dynalite on loopback: the conditional ADD must
 * hold under concurrency, which a mocked client cannot show.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { DynamoTokenBudget } from '../../../lambda/suggester/adapters';
import { createStringKeyTable, RunningDynalite, startDynalite } from '../../helpers/dynalite';

const TABLE = 'token-budget';
let server: RunningDynalite;
let client: DynamoDBClient;

beforeAll(async () => {
  server = await startDynalite();
  client = server.client;
  await createStringKeyTable(client, TABLE, 'day');
});

afterAll(async () => {
  await server.stop();
});

async function spent(day: string): Promise<number> {
  const item = await client.send(new GetItemCommand({ TableName: TABLE, Key: { day: { S: day } } }));
  return Number(item.Item?.tokens?.N ?? 0);
}

describe('DynamoTokenBudget (dynalite)', () => {
  test('reserves until the daily limit and refuses the reservation that would exceed it', async () => {
    const budget = new DynamoTokenBudget(DynamoDBDocumentClient.from(client), TABLE, 1000);
    expect(await budget.reserve('2026-11-01', 600)).toBe(true);
    expect(await budget.reserve('2026-11-01', 400)).toBe(true);
    expect(await budget.reserve('2026-11-01', 1)).toBe(false);
    expect(await spent('2026-11-01')).toBe(1000);
  });

  test('never lets concurrent reservations jointly exceed the limit', async () => {
    const budget = new DynamoTokenBudget(DynamoDBDocumentClient.from(client), TABLE, 1000);
    const results = await Promise.all(Array.from({ length: 25 }, () => budget.reserve('2026-11-02', 100)));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(await spent('2026-11-02')).toBe(1000);
  });

  test('gives back what a reservation over-estimated, making room for the next request', async () => {
    const budget = new DynamoTokenBudget(DynamoDBDocumentClient.from(client), TABLE, 1000);
    expect(await budget.reserve('2026-11-03', 900)).toBe(true);
    await budget.settle('2026-11-03', -700);
    expect(await spent('2026-11-03')).toBe(200);
    expect(await budget.reserve('2026-11-03', 800)).toBe(true);
  });

  test('starts every UTC day afresh and sets the expiry a week after the day', async () => {
    const budget = new DynamoTokenBudget(DynamoDBDocumentClient.from(client), TABLE, 1000);
    expect(await budget.reserve('2026-11-04', 1000)).toBe(true);
    expect(await budget.reserve('2026-11-05', 1000)).toBe(true);
    const item = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { day: { S: '2026-11-05' } } }),
    );
    expect(Number(item.Item?.expiresAt?.N)).toBe(Date.parse('2026-11-13T00:00:00Z') / 1000);
  });

  test('refuses a single request larger than the whole daily budget', async () => {
    const budget = new DynamoTokenBudget(DynamoDBDocumentClient.from(client), TABLE, 1000);
    expect(await budget.reserve('2026-11-06', 1001)).toBe(false);
    expect(await spent('2026-11-06')).toBe(0);
  });
});
