/** `pipemend mode set|clear`: a pipeline's or project's remediation mode in a deployed Pipemend. */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Argument, Command, Option } from 'commander';

import { DEFAULT_STACK_NAME, findDeployedStack } from './deployed-stack';
import { modeKey } from '../../lambda/remediation/dynamodb-guard-store';
import { REMEDIATION_MODES } from '../../lib/config';
import { UsageError } from '../cli-errors';

export interface ModeClients {
  readonly cloudFormation: CloudFormationClient;
  readonly documents: DynamoDBDocumentClient;
}

interface ScopeOptions {
  readonly pipeline?: string;
  readonly project?: string;
  readonly stack: string;
  readonly region?: string;
}

/** `pipeline:<name>` or `project:<name>`: the scope the guard reads a mode for. */
function scopeOf(options: ScopeOptions): string {
  if (options.pipeline !== undefined) return `pipeline:${options.pipeline}`;
  if (options.project !== undefined) return `project:${options.project}`;
  throw new UsageError('name the scope: --pipeline <name> or --project <name>');
}

function scopeOptions(command: Command): Command {
  return command
    .addOption(new Option('--pipeline <name>', 'a CodePipeline pipeline').conflicts('project'))
    .addOption(new Option('--project <name>', 'a CodeBuild project run outside pipelines'))
    .option('--stack <name>', 'the Pipemend stack', DEFAULT_STACK_NAME)
    .option('--region <region>', 'AWS region (default: from the AWS profile/environment)');
}

export function registerModeCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  clientsFor: (region?: string) => ModeClients = (region) => {
    const config = region ? { region } : {};
    return {
      cloudFormation: new CloudFormationClient(config),
      documents: DynamoDBDocumentClient.from(new DynamoDBClient(config)),
    };
  },
): void {
  const mode = program
    .command('mode')
    .description("Set or clear a pipeline's or project's remediation mode in a deployed Pipemend");
  scopeOptions(
    mode
      .command('set')
      .description('Set the mode: shadow decides and records, suggest notifies with the action, enforce acts')
      .addArgument(new Argument('<mode>', 'shadow, suggest or enforce').choices(REMEDIATION_MODES)),
  ).action(async (value: string, options: ScopeOptions) => {
    const scope = scopeOf(options);
    const clients = clientsFor(options.region);
    const table = (await findDeployedStack(clients.cloudFormation, options.stack)).output(
      'RemediationStateTableName',
    );
    await clients.documents.send(
      new PutCommand({ TableName: table, Item: { pk: modeKey(scope), mode: value } }),
    );
    write(`${scope}: mode ${value}\n`);
  });
  scopeOptions(
    mode.command('clear').description("Remove the scope's own mode: the stack's defaultMode applies"),
  ).action(async (options: ScopeOptions) => {
    const scope = scopeOf(options);
    const clients = clientsFor(options.region);
    const table = (await findDeployedStack(clients.cloudFormation, options.stack)).output(
      'RemediationStateTableName',
    );
    await clients.documents.send(new DeleteCommand({ TableName: table, Key: { pk: modeKey(scope) } }));
    write(`${scope}: own mode removed; the stack's defaultMode applies\n`);
  });
}
