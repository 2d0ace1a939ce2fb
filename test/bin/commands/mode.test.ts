import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';

import { stackWithOutputs, TABLE } from './deployed-stack.fixtures';
import { registerModeCommand } from '../../../bin/commands/mode';

const cloudFormation = mockClient(CloudFormationClient);
const documents = mockClient(DynamoDBDocumentClient);

async function cli(...args: string[]): Promise<{ output: string; errors: string }> {
  let output = '';
  let errors = '';
  const program = new Command().exitOverride().configureOutput({ writeErr: (text) => (errors += text) });
  registerModeCommand(
    program,
    (text) => (output += text),
    () => ({
      cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
      documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
    }),
  );
  program.commands.forEach((c) =>
    c.commands.forEach((s) => s.exitOverride().configureOutput({ writeErr: (text) => (errors += text) })),
  );
  await program.parseAsync(['node', 'pipemend', 'mode', ...args]);
  return { output, errors };
}

beforeEach(() => {
  cloudFormation.reset();
  documents.reset();
  stackWithOutputs(cloudFormation);
});

test("mode set writes the pipeline scope's mode into the stack's remediation table", async () => {
  const { output } = await cli('set', 'enforce', '--pipeline', 'app');
  expect(documents).toHaveReceivedCommandWith(PutCommand, {
    TableName: TABLE,
    Item: { pk: 'mode#pipeline:app', mode: 'enforce' },
  });
  expect(output).toBe('pipeline:app: mode enforce\n');
});

test('mode set for a project outside pipelines uses the project scope', async () => {
  await cli('set', 'suggest', '--project', 'nightly');
  expect(documents).toHaveReceivedCommandWith(PutCommand, {
    Item: { pk: 'mode#project:nightly', mode: 'suggest' },
  });
});

test("mode clear removes the scope's own mode", async () => {
  await cli('clear', '--pipeline', 'app');
  expect(documents).toHaveReceivedCommandWith(DeleteCommand, {
    TableName: TABLE,
    Key: { pk: 'mode#pipeline:app' },
  });
});

test('an unknown mode is refused naming the allowed ones, and nothing is written', async () => {
  const run = cli('set', 'yolo', '--pipeline', 'app');
  await expect(run).rejects.toThrow(
    "command-argument value 'yolo' is invalid for argument 'mode'. Allowed choices are shadow, suggest, enforce.",
  );
  expect(documents).not.toHaveReceivedCommand(PutCommand);
});

test('without --pipeline or --project it says which to give', async () => {
  await expect(cli('set', 'enforce')).rejects.toThrow(
    'name the scope: --pipeline <name> or --project <name>',
  );
});

test('a stack that does not exist is named, with how to point at another', async () => {
  cloudFormation
    .on(DescribeStacksCommand, { StackName: 'Staging' })
    .rejects(Object.assign(new Error('Stack with id Staging does not exist'), { name: 'ValidationError' }));
  await expect(cli('set', 'enforce', '--pipeline', 'app', '--stack', 'Staging')).rejects.toThrow(
    "no stack named 'Staging' in this account and region: pass --stack <name> (and --region)",
  );
  expect(documents).not.toHaveReceivedCommand(PutCommand);
});
