/**
 * ClassifyPorts on AWS: CodeBuild (BatchGetBuilds, DescribeTestCases), CloudWatch Logs (the log tail),
 * CodePipeline (the failed action's build, the latest stage execution), CloudWatch (alarm state) and the
 * data lake (test history under `test-history/`, the project's quarantine file under `quarantine/`).
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetBuildsCommand, CodeBuildClient, DescribeTestCasesCommand } from '@aws-sdk/client-codebuild';
import {
  CodePipelineClient,
  GetPipelineStateCommand,
  ListActionExecutionsCommand,
} from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { BuildFacts, ClassifyPorts } from './classify';
import { BuildStatus } from '../../core/collection/build-record';
import { HealthSignal } from '../../core/remediation/decision-policy';
import { TestCaseResult, TestRun } from '../../core/remediation/flaky-tests';
import { S3FlakyTestHistory } from '../remediation/s3-flaky-test-history';
import { QuarantineWarn, S3QuarantineSource } from '../remediation/s3-quarantine-store';

export interface AwsClients {
  readonly codebuild: CodeBuildClient;
  readonly logs: CloudWatchLogsClient;
  readonly codepipeline: CodePipelineClient;
  readonly cloudwatch: CloudWatchClient;
  readonly s3: S3Client;
}

export interface AwsPortsOptions {
  readonly bucketName: string;
  /**
   * Log lines read from the end of the build log.
   * @default 500
   */
  readonly logTailLines?: number;
  /**
   * Test runs of history the flaky analysis looks at.
   * @default 20
   */
  readonly historyRuns?: number;
  /**
   * Test cases read per build (large suites are capped: flakiness shows in the failures first).
   * @default 2000
   */
  readonly maxTestCases?: number;
  /** Where an unreadable quarantine file is reported (it then quarantines nothing). */
  readonly warn: QuarantineWarn;
}

/** Epoch milliseconds far in the future: keys sort newest first when their prefix counts down. */
const KEY_CLOCK_END = 9_999_999_999_999;

export function testHistoryPrefix(projectName: string): string {
  return `test-history/project=${encodeURIComponent(projectName)}/`;
}

export function testHistoryKey(projectName: string, buildId: string, endTime: string): string {
  const countdown = String(KEY_CLOCK_END - Date.parse(endTime)).padStart(13, '0');
  return `${testHistoryPrefix(projectName)}${countdown}-${encodeURIComponent(buildId)}.json`;
}

export function awsClassifyPorts(clients: AwsClients, options: AwsPortsOptions): ClassifyPorts {
  const logTailLines = options.logTailLines ?? 500;
  const historyRuns = options.historyRuns ?? 20;
  const maxTestCases = options.maxTestCases ?? 2000;
  const flakyTests = new S3FlakyTestHistory(options.bucketName, clients.s3);
  const quarantine = new S3QuarantineSource(options.bucketName, clients.s3, options.warn);
  return {
    async getBuild(buildId) {
      const { builds = [] } = await clients.codebuild.send(new BatchGetBuildsCommand({ ids: [buildId] }));
      const build = builds[0];
      if (!build?.id || !build.projectName) return undefined;
      const failedPhase = build.phases?.find(
        (phase) =>
          phase.phaseStatus !== undefined &&
          phase.phaseStatus !== 'SUCCEEDED' &&
          phase.phaseType !== 'COMPLETED',
      )?.phaseType;
      const revision = build.resolvedSourceVersion ?? build.sourceVersion;
      const logs =
        build.logs?.groupName && build.logs.streamName
          ? { groupName: build.logs.groupName, streamName: build.logs.streamName }
          : undefined;
      return {
        buildId: build.id,
        ...(build.arn !== undefined ? { buildArn: build.arn } : {}),
        projectName: build.projectName,
        status: (build.buildStatus ?? 'FAILED') as BuildStatus | 'IN_PROGRESS',
        ...(failedPhase !== undefined ? { failedPhase } : {}),
        ...(build.environment?.computeType !== undefined
          ? { computeType: build.environment.computeType }
          : {}),
        ...(revision !== undefined ? { revision } : {}),
        ...(build.initiator !== undefined ? { initiator: build.initiator } : {}),
        environmentVariables: (build.environment?.environmentVariables ?? []).map((variable) => ({
          name: variable.name ?? '',
          ...(variable.type === 'PLAINTEXT' && variable.value !== undefined ? { value: variable.value } : {}),
        })),
        ...(logs ? { logs } : {}),
        reportArns: build.reportArns ?? [],
        ...(build.endTime ? { endTime: build.endTime.toISOString() } : {}),
      } satisfies BuildFacts;
    },

    async testResults(reportArns) {
      const results: TestCaseResult[] = [];
      for (const reportArn of reportArns) {
        let nextToken: string | undefined;
        do {
          const page = await clients.codebuild.send(
            new DescribeTestCasesCommand({ reportArn, nextToken, maxResults: 100 }),
          );
          for (const testCase of page.testCases ?? []) {
            const name = [testCase.prefix, testCase.name].filter(Boolean).join(' ');
            if (testCase.status === 'SUCCEEDED') results.push({ name, outcome: 'PASSED' });
            else if (testCase.status === 'FAILED' || testCase.status === 'ERROR')
              results.push({ name, outcome: 'FAILED' });
          }
          nextToken = page.nextToken;
        } while (nextToken && results.length < maxTestCases);
      }
      return results.slice(0, maxTestCases);
    },

    async logTail(logs) {
      const { events = [] } = await clients.logs.send(
        new GetLogEventsCommand({
          logGroupName: logs.groupName,
          logStreamName: logs.streamName,
          startFromHead: false,
          limit: logTailLines,
        }),
      );
      return events.flatMap((event) => (event.message ?? '').split('\n'));
    },

    knownFlakyTests: (projectName) => flakyTests.knownFlaky(projectName),

    quarantinedTests: (projectName) => quarantine.quarantinedTests(projectName),

    async recentTestRuns(projectName, excludeBuildId) {
      const { Contents = [] } = await clients.s3.send(
        new ListObjectsV2Command({
          Bucket: options.bucketName,
          Prefix: testHistoryPrefix(projectName),
          MaxKeys: historyRuns + 1,
        }),
      );
      const runs = await Promise.all(
        Contents.flatMap((object) => (object.Key ? [object.Key] : [])).map(async (key) => {
          const { Body } = await clients.s3.send(
            new GetObjectCommand({ Bucket: options.bucketName, Key: key }),
          );
          return JSON.parse((await Body?.transformToString()) ?? 'null') as TestRun | null;
        }),
      );
      // Keys list newest first; the analysis wants oldest first.
      return runs
        .filter((run): run is TestRun => run !== null && run.buildId !== excludeBuildId)
        .slice(0, historyRuns)
        .reverse();
    },

    async recordTestRun(projectName, run, endTime) {
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: options.bucketName,
          Key: testHistoryKey(projectName, run.buildId, endTime),
          Body: JSON.stringify(run),
          ContentType: 'application/json',
        }),
      );
    },

    async failedBuildOfStage(pipelineName, stageName, pipelineExecutionId) {
      const { actionExecutionDetails = [] } = await clients.codepipeline.send(
        new ListActionExecutionsCommand({ pipelineName, filter: { pipelineExecutionId } }),
      );
      const failed = actionExecutionDetails.find(
        (detail) =>
          detail.stageName === stageName &&
          detail.status === 'Failed' &&
          detail.input?.actionTypeId?.provider === 'CodeBuild',
      );
      return failed?.output?.executionResult?.externalExecutionId;
    },

    async latestStageExecution(pipelineName, stageName) {
      const state = await clients.codepipeline.send(new GetPipelineStateCommand({ name: pipelineName }));
      return state.stageStates?.find((stage) => stage.stageName === stageName)?.latestExecution
        ?.pipelineExecutionId;
    },

    async alarm(alarmName): Promise<HealthSignal | undefined> {
      const { MetricAlarms = [], CompositeAlarms = [] } = await clients.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
      );
      const alarm = MetricAlarms[0] ?? CompositeAlarms[0];
      if (!alarm?.StateValue) return undefined;
      return {
        alarmName,
        state: alarm.StateValue,
        ...(alarm.StateReason !== undefined ? { reason: alarm.StateReason } : {}),
      };
    },
  };
}
