/**
 * The guard's bookkeeping through the real SDK against dynalite on loopback: budgets, escalations and the
 * breaker are conditional writes whose behaviour under concurrency a mocked client cannot show. The
 * idempotent guard runs with Powertools' real DynamoDB persistence layer on the same table.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';

import { BudgetClaim, DEFAULT_GUARD_LIMITS } from '../../../core/remediation/guards';
import { Classification } from '../../../core/remediation/remediation';
import { createGuardOnce, LambdaContext } from '../../../lambda/guard/guard-once';
import { DynamoDbGuardStore } from '../../../lambda/remediation/dynamodb-guard-store';
import { createStringKeyTable, RunningDynalite, startDynalite } from '../../helpers/dynalite';

const TABLE = 'remediation-state';
let server: RunningDynalite;
let client: DynamoDBClient;
let store: DynamoDbGuardStore;

beforeAll(async () => {
  server = await startDynalite();
  client = server.client;
  await createStringKeyTable(client, TABLE, 'pk');
  store = new DynamoDbGuardStore(TABLE, client);
});

afterAll(async () => {
  await server.stop();
});

const claim = (key: string, limit: number): BudgetClaim => ({
  key,
  limit,
  expiresAt: 2_000_000_000,
  description: key,
});

describe('DynamoDbGuardStore (dynalite)', () => {
  test('concurrent claims never spend more than the budget', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.consumeBudgets([claim('budget#concurrent', 3)])),
    );

    expect(results.filter((result) => result.exhausted === undefined)).toHaveLength(3);
  });

  test('a claim denied by its second budget hands back what it took from the first', async () => {
    await store.consumeBudgets([claim('budget#revision-full', 1)]);

    const denied = await store.consumeBudgets([
      claim('budget#window-roomy', 5),
      claim('budget#revision-full', 1),
    ]);
    const afterwards = await store.consumeBudgets([claim('budget#window-roomy', 1)]);

    expect(denied.exhausted?.key).toBe('budget#revision-full');
    expect(afterwards.exhausted).toBeUndefined();
  });

  test('of many concurrent escalations exactly one is claimed, until the hold lapses', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.claimEscalation('pipeline:storm', 1000, 1000 - 3600)),
    );
    const later = await store.claimEscalation('pipeline:storm', 1000 + 7200, 1000 + 7200 - 3600);

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(later).toBe(true);
  });

  test('failures count up and a success closes the circuit and ends the escalation', async () => {
    await store.recordResult('project:flaky', false, 100);
    await store.claimEscalation('project:flaky', 101, 0);
    const failing = await store.recordResult('project:flaky', false, 102);
    const closed = await store.recordResult('project:flaky', true, 103);

    expect(failing).toEqual({ consecutiveFailures: 2, lastFailureAt: 102, escalatedAt: 101 });
    expect(closed).toEqual({ consecutiveFailures: 0, lastFailureAt: 102 });
    expect(await store.getBreaker('project:flaky')).toEqual(closed);
  });

  test('a result recorded again for the same remediation (a retried record step) counts once', async () => {
    await store.recordResult('project:retried', false, 200, 'rem-a');
    const again = await store.recordResult('project:retried', false, 201, 'rem-a');
    const other = await store.recordResult('project:retried', false, 202, 'rem-b');
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => store.recordResult('project:retried', false, 203, 'rem-c')),
    );

    expect(again).toEqual({ consecutiveFailures: 1, lastFailureAt: 200 });
    expect(other).toEqual({ consecutiveFailures: 2, lastFailureAt: 202 });
    expect(concurrent.map((state) => state.consecutiveFailures)).toContain(3);
    expect(await store.getBreaker('project:retried')).toEqual({ consecutiveFailures: 3, lastFailureAt: 203 });
  });

  test('a success closes the circuit once; a retried success after a new failure does not reset it', async () => {
    await store.recordResult('project:healed', false, 300, 'rem-1');
    await store.recordResult('project:healed', true, 301, 'rem-2');
    await store.recordResult('project:healed', false, 302, 'rem-3');
    const retriedSuccess = await store.recordResult('project:healed', true, 303, 'rem-2');

    expect(retriedSuccess).toEqual({ consecutiveFailures: 1, lastFailureAt: 302 });
  });

  test('a mode item written by the user is read back, and a bad one is named', async () => {
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'mode#pipeline:app' }, mode: { S: 'enforce' } },
      }),
    );
    await client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'mode#pipeline:typo' }, mode: { S: 'enforced' } },
      }),
    );

    expect(await store.getMode('pipeline:app')).toBe('enforce');
    expect(await store.getMode('pipeline:none')).toBeUndefined();
    await expect(store.getMode('pipeline:typo')).rejects.toThrow(
      "Item mode#pipeline:typo has mode 'enforced'; expected one of shadow, suggest, enforce",
    );
  });
});

describe('DynamoDbGuardStore notification dedup by fingerprint (dynalite)', () => {
  const WINDOW = 24 * 3600;

  test('of many concurrent occurrences of one failure exactly one notifies; the others count', async () => {
    const occurrences = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.noteOccurrence('concurrent', `rem-${i}`, 1_000, WINDOW)),
    );

    expect(occurrences.filter((occurrence) => occurrence.first)).toHaveLength(1);
    expect(occurrences.map((occurrence) => occurrence.count).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  test('a repeat within the window counts, a retry of the notified remediation stays first, and a new window notifies again', async () => {
    expect(await store.noteOccurrence('window', 'rem-a', 1_000, WINDOW)).toEqual({ first: true, count: 1 });
    expect(await store.noteOccurrence('window', 'rem-b', 2_000, WINDOW)).toEqual({ first: false, count: 2 });
    expect(await store.noteOccurrence('window', 'rem-a', 2_100, WINDOW)).toEqual({ first: true, count: 2 });
    expect(await store.noteOccurrence('window', 'rem-c', 1_000 + WINDOW, WINDOW)).toEqual({
      first: true,
      count: 1,
    });
  });

  test('the item is keyed fingerprint#<hash> and expires with its window (TTL attribute)', async () => {
    await store.noteOccurrence('ttl', 'rem-1', 5_000, WINDOW);
    const { Item } = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'fingerprint#ttl' } } }),
    );

    expect(Item).toMatchObject({
      occurrences: { N: '1' },
      notifiedBy: { S: 'rem-1' },
      expiresAt: { N: String(5_000 + WINDOW) },
    });
  });
});

describe('createGuardOnce with the Powertools DynamoDB persistence layer (dynalite)', () => {
  const classification: Classification = {
    eventId: 'event-1',
    claimKey: 'build:app-build:42',
    target: { kind: 'codebuild-project', projectName: 'app-build', buildId: 'app-build:42', revision: 'abc' },
    decision: { action: 'RERUN_CLEAN', reasons: ['network timeout'], confidence: 0.8 },
    classifiedAt: '2026-11-21T12:00:00.000Z',
  };

  test('the same failure presented by two executions is acted on once; the second is told DUPLICATE', async () => {
    const guardOnce = createGuardOnce({
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: TABLE,
        keyAttr: 'pk',
        expiryAttr: 'expiresAt',
        awsSdkV3Client: client,
      }),
      context: () => ({
        store,
        limits: DEFAULT_GUARD_LIMITS,
        defaultMode: 'enforce',
        nowSeconds: 1_800_000_000,
      }),
    });
    guardOnce.idempotencyConfig.registerLambdaContext({
      getRemainingTimeInMillis: () => 30_000,
    } as LambdaContext);

    const first = await guardOnce({ classification, executionId: 'exec-1' });
    const again = await guardOnce({ classification, executionId: 'exec-1' });
    const duplicate = await guardOnce({
      classification: { ...classification, eventId: 'event-2' },
      executionId: 'exec-2',
    });

    expect(first.outcome).toBe('PROCEED');
    expect(again).toEqual(first);
    expect(duplicate).toMatchObject({
      outcome: 'DUPLICATE',
      remediationId: first.remediationId,
      reasons: ['Execution exec-1 already handled build:app-build:42.'],
    });
  });
});
