import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';

import { registerApproveCommands } from '../../../bin/commands/approve';

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:RemediationStateMachine:abc-123';
const sfn = mockClient(SFNClient);

function approvalScheduled(token: string): HistoryEvent {
  return {
    id: 7,
    timestamp: new Date(),
    type: 'TaskScheduled',
    taskScheduledEventDetails: {
      resourceType: 'sns',
      resource: 'publish.waitForTaskToken',
      region: 'eu-west-1',
      parameters: JSON.stringify({
        TopicArn: 'arn:aws:sns:eu-west-1:123456789012:Notifications',
        Message: { kind: 'rollback-approval-request', executionArn: EXECUTION, taskToken: token },
      }),
    },
  };
}

async function cli(...args: string[]): Promise<string> {
  let output = '';
  const program = new Command().exitOverride();
  registerApproveCommands(
    program,
    (text) => (output += text),
    () => new SFNClient({ region: 'eu-west-1' }),
  );
  await program.parseAsync(['node', 'pipemend', ...args]);
  return output;
}

beforeEach(() => {
  sfn.reset();
  sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  sfn.on(GetExecutionHistoryCommand).resolves({ events: [approvalScheduled('token-1')] });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

describe('pipemend approve|deny EXECUTION', () => {
  test('approve sends SendTaskSuccess with the token from the approval request in the history', async () => {
    const output = await cli('approve', EXECUTION, '--by', 'alice', '--reason', 'checked the dashboards');

    expect(sfn).toHaveReceivedCommandWith(GetExecutionHistoryCommand, {
      executionArn: EXECUTION,
      reverseOrder: true,
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: 'token-1',
      output: JSON.stringify({ approved: true, by: 'alice', reason: 'checked the dashboards' }),
    });
    expect(output).toBe(`Approved the rollback of ${EXECUTION}.\n`);
  });

  test('deny sends SendTaskFailure with the error the state machine catches', async () => {
    await cli('deny', EXECUTION, '--by', 'bob', '--reason', 'the alarm is a false positive');

    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, {
      taskToken: 'token-1',
      error: 'Pipemend.ApprovalDenied',
      cause: 'denied by bob: the alarm is a false positive',
    });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('an execution that is no longer running is refused with its status', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

    await expect(cli('approve', EXECUTION)).rejects.toThrow(
      `Execution ${EXECUTION} is SUCCEEDED, not waiting for an approval`,
    );
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('an approval that was already answered is not answered twice', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        {
          id: 9,
          timestamp: new Date(),
          type: 'TaskStateExited',
          stateExitedEventDetails: { name: 'RequestRollbackApproval' },
        },
        approvalScheduled('token-1'),
      ],
    });

    await expect(cli('approve', EXECUTION)).rejects.toThrow('already answered or timed out');
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('an execution without an approval request says so', async () => {
    sfn
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [{ id: 1, timestamp: new Date(), type: 'ExecutionStarted' }] });

    await expect(cli('deny', EXECUTION)).rejects.toThrow(
      `Execution ${EXECUTION} is not waiting for a rollback approval`,
    );
  });

  test('something that is not an execution ARN is rejected before any call', async () => {
    await expect(cli('approve', 'abc-123')).rejects.toThrow(
      "expected a Step Functions execution ARN, got 'abc-123'",
    );
    expect(sfn.calls()).toHaveLength(0);
  });
});
