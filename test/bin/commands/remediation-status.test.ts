import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';

import { registerRemediationStatusCommand } from '../../../bin/commands/remediation-status';

const documents = mockClient(DynamoDBDocumentClient);
const now = Math.floor(Date.now() / 1000);

async function cli(...args: string[]): Promise<string> {
  let output = '';
  const program = new Command().exitOverride();
  registerRemediationStatusCommand(
    program,
    (text) => (output += text),
    () => DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
  );
  await program.parseAsync(['node', 'pipemend', 'remediation-status', ...args]);
  return output;
}

beforeEach(() => documents.reset());

describe('pipemend remediation-status', () => {
  test('lists modes, breakers (open or closed) and recent remediations newest first', async () => {
    documents
      .on(ScanCommand)
      .resolvesOnce({
        Items: [
          { pk: 'mode#pipeline:app', mode: 'enforce' },
          {
            pk: 'breaker#pipeline:app',
            consecutiveFailures: 3,
            lastFailureAt: now - 60,
            escalatedAt: 1_800_000_000,
          },
          {
            pk: 'record#r1',
            scope: 'pipeline:app',
            action: 'RERUN_CLEAN',
            guardOutcome: 'PROCEED',
            status: 'FAILED',
            recordedAt: '2026-11-21T10:00:00.000Z',
          },
        ],
        LastEvaluatedKey: { pk: 'record#r1' },
      })
      .resolves({
        Items: [
          { pk: 'breaker#project:lib', consecutiveFailures: 0 },
          {
            pk: 'record#r2',
            scope: 'project:lib',
            action: 'RERUN_CLEAN',
            guardOutcome: 'PROCEED',
            status: 'SUCCEEDED',
            recordedAt: '2026-11-21T11:00:00.000Z',
            labelKind: 'environment-fault',
          },
        ],
      });

    const output = await cli('--table', 'state', '--region', 'eu-west-1');

    expect(output).toBe(
      [
        'Scopes (default mode: shadow):',
        '  pipeline:app  mode enforce  breaker OPEN: 3 consecutive failed remediation(s), escalated 2027-01-15T08:00:00.000Z',
        '  project:lib  mode shadow (default)  breaker closed: 0 consecutive failed remediation(s)',
        'Recent remediations (newest first, up to 20):',
        '  2026-11-21T11:00:00.000Z  project:lib  RERUN_CLEAN  PROCEED → SUCCEEDED  label environment-fault  r2',
        '  2026-11-21T10:00:00.000Z  pipeline:app  RERUN_CLEAN  PROCEED → FAILED  r1',
        '',
      ].join('\n'),
    );
    expect(documents).toHaveReceivedCommandWith(ScanCommand, {
      TableName: 'state',
      FilterExpression: 'begins_with(pk, :mode) OR begins_with(pk, :breaker) OR begins_with(pk, :record)',
    });
  });

  test('an empty table says there is nothing yet', async () => {
    documents.on(ScanCommand).resolves({ Items: [] });
    expect(await cli('--table', 'state')).toContain('Scopes (default mode: shadow):\n  none yet\n');
  });
});
