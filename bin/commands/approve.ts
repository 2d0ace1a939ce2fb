import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { Command, InvalidArgumentError } from 'commander';

import { APPROVAL_DENIED_ERROR, REMEDIATION_STATES } from '../../core/remediation/remediation';

export interface ApprovalAnswer {
  readonly executionArn: string;
  readonly approve: boolean;
  /** Who answers, recorded in the execution's history. */
  readonly by: string;
  readonly reason?: string;
  readonly sfn: SFNClient;
}

/** History pages read looking for the approval request: enough for any remediation execution. */
const MAX_HISTORY_PAGES = 10;

/**
 * Answers a rollback approval: finds the waiting approval task's token in the execution's history (the
 * SNS request carries it) and sends SendTaskSuccess or SendTaskFailure (`Pipemend.ApprovalDenied`).
 */
export async function answerApproval(answer: ApprovalAnswer): Promise<string> {
  const execution = await answer.sfn.send(
    new DescribeExecutionCommand({ executionArn: answer.executionArn }),
  );
  if (execution.status !== 'RUNNING') {
    throw new Error(
      `Execution ${answer.executionArn} is ${execution.status ?? 'unknown'}, not waiting for an approval`,
    );
  }
  const taskToken = await findWaitingApprovalToken(answer.sfn, answer.executionArn);
  if (answer.approve) {
    await answer.sfn.send(
      new SendTaskSuccessCommand({
        taskToken,
        output: JSON.stringify({ approved: true, by: answer.by, reason: answer.reason ?? null }),
      }),
    );
    return `Approved the rollback of ${answer.executionArn}.`;
  }
  await answer.sfn.send(
    new SendTaskFailureCommand({
      taskToken,
      error: APPROVAL_DENIED_ERROR,
      cause: `denied by ${answer.by}${answer.reason ? `: ${answer.reason}` : ''}`,
    }),
  );
  return `Denied the rollback of ${answer.executionArn}.`;
}

async function findWaitingApprovalToken(sfn: SFNClient, executionArn: string): Promise<string> {
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 200, nextToken }),
    );
    for (const event of history.events ?? []) {
      // Newest first: an exit from the approval state before its request means it was already answered.
      if (
        event.type === 'TaskStateExited' &&
        event.stateExitedEventDetails?.name === REMEDIATION_STATES.requestApproval
      ) {
        throw new Error(`The rollback approval of ${executionArn} was already answered or timed out`);
      }
      const token = approvalToken(event);
      if (token) return token;
    }
    nextToken = history.nextToken;
    if (!nextToken) break;
  }
  throw new Error(`Execution ${executionArn} is not waiting for a rollback approval`);
}

function approvalToken(event: HistoryEvent): string | undefined {
  const details = event.taskScheduledEventDetails;
  if (
    event.type !== 'TaskScheduled' ||
    details?.resourceType !== 'sns' ||
    details.resource !== 'publish.waitForTaskToken'
  ) {
    return undefined;
  }
  const parameters = JSON.parse(details.parameters ?? '{}') as { Message?: unknown };
  const message: unknown =
    typeof parameters.Message === 'string' ? JSON.parse(parameters.Message) : parameters.Message;
  const token = (message as { taskToken?: unknown } | undefined)?.taskToken;
  return typeof token === 'string' && token !== '' ? token : undefined;
}

interface ApproveOptions {
  readonly reason?: string;
  readonly by?: string;
  readonly region?: string;
}

/** `pipemend approve EXECUTION` and `pipemend deny EXECUTION`: answer a rollback approval request. */
export function registerApproveCommands(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  sfnFor: (region?: string) => SFNClient = (region) => new SFNClient(region ? { region } : {}),
): void {
  for (const approve of [true, false]) {
    program
      .command(approve ? 'approve' : 'deny')
      .description(`${approve ? 'Approve' : 'Deny'} the rollback a remediation execution is waiting for`)
      .argument(
        '<execution>',
        'the Step Functions execution ARN from the approval message',
        parseExecutionArn,
      )
      .option('--reason <text>', 'why, recorded in the execution')
      .option('--by <name>', 'who answers', process.env.USER ?? 'pipemend-cli')
      .option('--region <region>', 'AWS region (default: the one in the execution ARN)')
      .action(async (executionArn: string, options: ApproveOptions) => {
        const region = options.region ?? executionArn.split(':')[3];
        const message = await answerApproval({
          executionArn,
          approve,
          by: options.by ?? 'pipemend-cli',
          ...(options.reason !== undefined ? { reason: options.reason } : {}),
          sfn: sfnFor(region),
        });
        write(`${message}\n`);
      });
  }
}

function parseExecutionArn(value: string): string {
  if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(value)) {
    throw new InvalidArgumentError(`expected a Step Functions execution ARN, got '${value}'`);
  }
  return value;
}
