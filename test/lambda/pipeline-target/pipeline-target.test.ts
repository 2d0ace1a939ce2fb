import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  ListPipelineExecutionsCommand,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';

import {
  findRetryExecution,
  findRollbackTarget,
  watchExecution,
} from '../../../lambda/pipeline-target/pipeline-target';

const codepipeline = mockClient(CodePipelineClient);
const cloudwatch = mockClient(CloudWatchClient);
const clients = { codepipeline: new CodePipelineClient({}), cloudwatch: new CloudWatchClient({}) };
const target = {
  kind: 'pipeline-stage' as const,
  pipelineName: 'app',
  stageName: 'Deploy',
  pipelineExecutionId: 'bad-9',
};

beforeEach(() => {
  codepipeline.reset();
  cloudwatch.reset();
});

describe('findRetryExecution', () => {
  test('returns the failed execution when it is still the latest of the stage', async () => {
    codepipeline.on(GetPipelineStateCommand, { name: 'app' }).resolves({
      stageStates: [
        { stageName: 'Deploy', latestExecution: { pipelineExecutionId: 'bad-9', status: 'Failed' } },
      ],
    });
    await expect(findRetryExecution(target, clients)).resolves.toEqual({ pipelineExecutionId: 'bad-9' });
  });

  test('refuses when a newer execution has reached the stage', async () => {
    codepipeline.on(GetPipelineStateCommand).resolves({
      stageStates: [
        { stageName: 'Deploy', latestExecution: { pipelineExecutionId: 'new-10', status: 'InProgress' } },
      ],
    });
    await expect(findRetryExecution(target, clients)).rejects.toMatchObject({
      name: 'StageNotRetryableError',
      message: 'Execution bad-9 is no longer the latest of stage Deploy (now new-10)',
    });
  });
});

describe('findRollbackTarget', () => {
  beforeEach(() => {
    codepipeline.on(GetPipelineCommand).resolves({
      pipeline: {
        name: 'app',
        roleArn: 'arn:aws:iam::123456789012:role/p',
        version: 4,
        stages: [
          {
            name: 'Source',
            actions: [
              {
                name: 'Git',
                actionTypeId: {
                  category: 'Source',
                  owner: 'AWS',
                  provider: 'CodeStarSourceConnection',
                  version: '1',
                },
              },
            ],
          },
          {
            name: 'Deploy',
            actions: [
              {
                name: 'Cfn',
                actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CloudFormation', version: '1' },
              },
            ],
          },
        ],
      },
    });
  });

  test('picks the latest successful, non-rollback execution of the stage on the current pipeline version', async () => {
    codepipeline.on(ListPipelineExecutionsCommand).resolves({
      pipelineExecutionSummaries: [
        { pipelineExecutionId: 'bad-9', status: 'Succeeded' },
        { pipelineExecutionId: 'rb-8', status: 'Succeeded', executionType: 'ROLLBACK' },
        { pipelineExecutionId: 'old-version-7', status: 'Succeeded' },
        { pipelineExecutionId: 'good-6', status: 'Succeeded' },
      ],
    });
    codepipeline
      .on(GetPipelineExecutionCommand, { pipelineExecutionId: 'old-version-7' })
      .resolves({ pipelineExecution: { pipelineVersion: 3 } });
    codepipeline
      .on(GetPipelineExecutionCommand, { pipelineExecutionId: 'good-6' })
      .resolves({ pipelineExecution: { pipelineVersion: 4 } });

    await expect(findRollbackTarget(target, clients)).resolves.toEqual({
      pipelineExecutionId: 'good-6',
      pipelineVersion: 4,
    });
    expect(codepipeline).toHaveReceivedCommandWith(ListPipelineExecutionsCommand, {
      pipelineName: 'app',
      filter: { succeededInStage: { stageName: 'Deploy' } },
    });
  });

  test('never rolls back a source stage', async () => {
    await expect(findRollbackTarget({ ...target, stageName: 'Source' }, clients)).rejects.toMatchObject({
      name: 'RollbackNotPossibleError',
      message: 'Stage Source is a source stage, which cannot be rolled back',
    });
  });

  test('says so when no earlier good execution exists on this version', async () => {
    codepipeline
      .on(ListPipelineExecutionsCommand)
      .resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'bad-9' }] });
    await expect(findRollbackTarget(target, clients)).rejects.toThrow(
      'No earlier successful, non-rollback execution of stage Deploy on version 4 of app',
    );
  });
});

describe('watchExecution', () => {
  const request = { pipelineName: 'app', pipelineExecutionId: 'rb-1', checks: 0, maxChecks: 3 };

  test('keeps watching while the execution runs, and gives up after the last check', async () => {
    codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'InProgress' } });
    await expect(watchExecution(request, clients)).resolves.toMatchObject({
      status: 'IN_PROGRESS',
      checks: 1,
    });
    await expect(watchExecution({ ...request, checks: 2 }, clients)).resolves.toMatchObject({
      status: 'FAILED',
      checks: 3,
    });
  });

  test('a rollback succeeds only once its health alarm is OK again', async () => {
    codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Succeeded' } });
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({ MetricAlarms: [{ StateValue: 'ALARM' }] })
      .resolves({ MetricAlarms: [{ StateValue: 'OK' }] });

    await expect(watchExecution({ ...request, healthAlarmName: 'api-5xx' }, clients)).resolves.toMatchObject({
      status: 'IN_PROGRESS',
    });
    await expect(
      watchExecution({ ...request, healthAlarmName: 'api-5xx', checks: 1 }, clients),
    ).resolves.toEqual({
      status: 'SUCCEEDED',
      detail: 'execution rb-1 of app succeeded and api-5xx is OK again',
      checks: 2,
    });
    expect(cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: ['api-5xx'] });
  });

  test('a composite health alarm is found (DescribeAlarms asks for both alarm types) and an OK one ends the rollback', async () => {
    codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Succeeded' } });
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolves({})
      .on(DescribeAlarmsCommand, { AlarmTypes: ['CompositeAlarm', 'MetricAlarm'] })
      .resolves({ MetricAlarms: [], CompositeAlarms: [{ AlarmName: 'app-health', StateValue: 'OK' }] });

    await expect(
      watchExecution({ ...request, healthAlarmName: 'app-health', checks: 1 }, clients),
    ).resolves.toEqual({
      status: 'SUCCEEDED',
      detail: 'execution rb-1 of app succeeded and app-health is OK again',
      checks: 2,
    });
    expect(cloudwatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, {
      AlarmNames: ['app-health'],
      AlarmTypes: ['CompositeAlarm', 'MetricAlarm'],
    });
  });

  test('a failed or superseded execution is a failed remediation', async () => {
    codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { status: 'Superseded' } });
    await expect(watchExecution(request, clients)).resolves.toMatchObject({
      status: 'FAILED',
      detail: 'execution rb-1 of app ended Superseded',
    });
  });
});
