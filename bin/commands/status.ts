/** `pipemend status`: what a deployed Pipemend is doing, found from its stack outputs. */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, paginateListQueues, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Command } from 'commander';

import { DEFAULT_STACK_NAME, DeployedStack, findDeployedStack } from './deployed-stack';
import { formatRemediationState, readRemediationState } from './remediation-status';
import { DEFAULT_GUARD_LIMITS } from '../../core/remediation/guards';
import { CURRENT_MODEL_MANIFEST_KEY } from '../../core/scoring/model-manifest';

export interface StatusClients {
  readonly cloudFormation: CloudFormationClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly documents: DynamoDBDocumentClient;
}

export interface QueueDepth {
  readonly name: string;
  readonly visible: number;
}

/** The current model's manifest, or undefined before the first training. */
async function currentModel(s3: S3Client, bucket: string): Promise<Record<string, unknown> | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: CURRENT_MODEL_MANIFEST_KEY }));
    return JSON.parse((await object.Body?.transformToString()) ?? '{}') as Record<string, unknown>;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Messages waiting in each of the stack's queues (every queue of the stack is a dead-letter queue). */
export async function queueDepths(sqs: SQSClient, stackName: string): Promise<QueueDepth[]> {
  const depths: QueueDepth[] = [];
  // CloudFormation names a queue without an explicit name `<stack name>-<logical id>-<suffix>`.
  for await (const page of paginateListQueues({ client: sqs }, { QueueNamePrefix: `${stackName}-` })) {
    for (const url of page.QueueUrls ?? []) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      depths.push({
        name: url.slice(url.lastIndexOf('/') + 1),
        visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
      });
    }
  }
  return depths.sort((a, b) => b.visible - a.visible || a.name.localeCompare(b.name));
}

export async function deployedStatus(clients: StatusClients, stackName: string, now: Date): Promise<string> {
  const stack: DeployedStack = await findDeployedStack(clients.cloudFormation, stackName);
  const lines = [`Stack ${stack.name} (${stack.status})`];
  for (const [key, value] of [...stack.outputs].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${key.padEnd(28)} ${value}`);
  }
  const model = await currentModel(clients.s3, stack.output('DataLakeBucketName'));
  lines.push(
    model
      ? `Model: ${String(model.modelVersion)} (${String(model.kind)}), trained ${String(model.trainedAt)} on ${String(model.trainingRows)} builds`
      : 'Model: none yet; builds are scored against each project’s cold-start baseline until the first training',
  );
  const state = await readRemediationState(clients.documents, stack.output('RemediationStateTableName'));
  lines.push(
    formatRemediationState(state, {
      defaultMode: stack.outputs.get('DefaultRemediationMode') ?? 'unknown',
      limits: DEFAULT_GUARD_LIMITS,
      nowSeconds: Math.floor(now.getTime() / 1000),
      recent: 5,
    }).trimEnd(),
  );
  const depths = await queueDepths(clients.sqs, stack.name);
  const waiting = depths.filter((queue) => queue.visible > 0);
  lines.push(
    waiting.length === 0
      ? `Dead-letter queues: ${depths.length}, all empty`
      : `Dead-letter queues: ${waiting.length} of ${depths.length} hold messages (pipemend redrive --queue <name> once the cause is fixed):`,
  );
  for (const queue of waiting) lines.push(`  ${queue.name}  ${queue.visible}`);
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  clientsFor: (region?: string) => StatusClients = (region) => {
    const config = region ? { region } : {};
    return {
      cloudFormation: new CloudFormationClient(config),
      s3: new S3Client(config),
      sqs: new SQSClient(config),
      documents: DynamoDBDocumentClient.from(new DynamoDBClient(config)),
    };
  },
  now: () => Date = () => new Date(),
): void {
  program
    .command('status')
    .description(
      'Show a deployed Pipemend: stack outputs, current model, remediation modes and breakers, dead-letter queues',
    )
    .option('--stack <name>', 'the Pipemend stack', DEFAULT_STACK_NAME)
    .option('--region <region>', 'AWS region (default: from the AWS profile/environment)')
    .action(async (options: { stack: string; region?: string }) => {
      write(await deployedStatus(clientsFor(options.region), options.stack, now()));
    });
}
