/** Events, classifier look-ups and AWS actions for running the remediation state machine locally. */
import { HealthSignal } from '../../core/remediation/decision-policy';
import { TestCaseResult, TestRun } from '../../core/remediation/flaky-tests';
import { GuardLimits } from '../../core/remediation/guards';
import { BuildFacts, ClassifyPorts } from '../../lambda/classify/classify';
import {
  createLocalRemediation,
  LocalRemediation,
  LocalRemediationOptions,
} from '../../local/remediation-local-handlers';
import {
  LocalExecution,
  LocalTaskError,
  RemediationRunner,
  RemediationTaskHandlers,
  remediationDefinition,
} from '../../local/remediation-runner';

/** The guard limits the remediation tests run with (the deployed defaults, spelled out). */
export const LIMITS: GuardLimits = {
  maxActionsPerRevision: 1,
  maxActionsPerWindow: 3,
  windowSeconds: 3600,
  breakerThreshold: 3,
  breakerCooldownSeconds: 6 * 3600,
};

export function failedBuildEvent(
  eventId: string,
  buildId: string,
  options: { environmentVariables?: { name: string; value: string }[] } = {},
): Record<string, unknown> {
  const [projectName] = buildId.split(':');
  return {
    id: eventId,
    source: 'aws.codebuild',
    'detail-type': 'CodeBuild Build State Change',
    detail: {
      'build-status': 'FAILED',
      'project-name': projectName,
      'build-id': `arn:aws:codebuild:us-east-1:123456789012:build/${buildId}`,
      'additional-information': {
        initiator: 'alice',
        environment: { 'environment-variables': options.environmentVariables ?? [] },
      },
    },
  };
}

export function failedStageEvent(eventId: string, pipelineExecutionId: string): Record<string, unknown> {
  return {
    id: eventId,
    source: 'aws.codepipeline',
    'detail-type': 'CodePipeline Stage Execution State Change',
    detail: {
      pipeline: 'app',
      'execution-id': pipelineExecutionId,
      stage: 'Test',
      state: 'FAILED',
      version: 3,
    },
  };
}

export function alarmEvent(eventId: string, alarmName = 'app-5xx'): Record<string, unknown> {
  return {
    id: eventId,
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    detail: { alarmName, state: { value: 'ALARM', reason: '5xx rate 12% > 2%' } },
  };
}

/** A CodeBuild world the classifier looks at: builds, their log tails and test results. */
export class FakeCi implements ClassifyPorts {
  readonly builds = new Map<string, BuildFacts>();
  readonly logs = new Map<string, string[]>();
  readonly tests = new Map<string, TestCaseResult[]>();
  readonly history: TestRun[] = [];
  readonly stageBuilds = new Map<string, string>();
  readonly latestStage = new Map<string, string>();
  readonly alarms = new Map<string, HealthSignal>();

  addFailedBuild(
    buildId: string,
    options: { log?: string[]; revision?: string; computeType?: string } = {},
  ): void {
    const [projectName = 'app-build'] = buildId.split(':');
    this.builds.set(buildId, {
      buildId,
      buildArn: `arn:aws:codebuild:us-east-1:123456789012:build/${buildId}`,
      projectName,
      status: 'FAILED',
      failedPhase: 'BUILD',
      computeType: options.computeType ?? 'BUILD_GENERAL1_SMALL',
      revision: options.revision ?? 'a1b2c3',
      initiator: 'alice',
      environmentVariables: [],
      logs: { groupName: `/aws/codebuild/${projectName}`, streamName: buildId.split(':')[1] ?? buildId },
      reportArns: [],
      endTime: '2026-11-21T12:00:00.000Z',
    });
    this.logs.set(
      buildId,
      options.log ?? [
        'npm ERR! code E429',
        'npm ERR! 429 Too Many Requests - GET https://registry.npmjs.org/left-pad',
      ],
    );
  }

  getBuild(buildId: string): Promise<BuildFacts | undefined> {
    return Promise.resolve(this.builds.get(buildId));
  }
  testResults(reportArns: readonly string[]): Promise<TestCaseResult[]> {
    return Promise.resolve(reportArns.flatMap((arn) => this.tests.get(arn) ?? []));
  }
  logTail(logs: { groupName: string; streamName: string }): Promise<string[]> {
    const build = [...this.builds.values()].find(
      (candidate) => candidate.logs?.streamName === logs.streamName,
    );
    return Promise.resolve(build ? (this.logs.get(build.buildId) ?? []) : []);
  }
  recentTestRuns(_projectName: string, excludeBuildId: string): Promise<TestRun[]> {
    return Promise.resolve(this.history.filter((run) => run.buildId !== excludeBuildId));
  }
  recordTestRun(_projectName: string, run: TestRun): Promise<void> {
    this.history.push(run);
    return Promise.resolve();
  }
  failedBuildOfStage(
    pipelineName: string,
    stageName: string,
    executionId: string,
  ): Promise<string | undefined> {
    return Promise.resolve(this.stageBuilds.get(`${pipelineName}/${stageName}/${executionId}`));
  }
  latestStageExecution(pipelineName: string, stageName: string): Promise<string | undefined> {
    return Promise.resolve(this.latestStage.get(`${pipelineName}/${stageName}`));
  }
  alarm(alarmName: string): Promise<HealthSignal | undefined> {
    return Promise.resolve(this.alarms.get(alarmName));
  }
}

type Actions = Pick<
  RemediationTaskHandlers,
  'startBuild' | 'retryStageExecution' | 'rollbackStage' | 'publish' | 'requestApproval' | 'pipelineTarget'
>;

/** AWS actions that record every call and answer as configured. */
export class FakeAws {
  readonly calls: { action: string; input: Record<string, unknown> }[] = [];
  rerunOutcome: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED';
  approval: 'APPROVE' | 'DENY' | 'TIMEOUT' = 'APPROVE';
  /** Watch answers in order; the last repeats. */
  watchAnswers: { status: string; detail: string }[] = [
    { status: 'SUCCEEDED', detail: 'execution succeeded' },
  ];
  failPipelineTarget?: LocalTaskError;
  private reruns = 0;
  private watches = 0;

  callsOf(action: string): Record<string, unknown>[] {
    return this.calls.filter((call) => call.action === action).map((call) => call.input);
  }

  readonly actions: Actions = {
    startBuild: (input) => {
      this.calls.push({ action: 'startBuild', input });
      this.reruns += 1;
      if (this.rerunOutcome === 'FAILED') {
        return Promise.reject(
          new LocalTaskError(
            'States.TaskFailed',
            `Build ${String(input.ProjectName)}:rerun-${this.reruns} FAILED`,
          ),
        );
      }
      return Promise.resolve({
        Build: { Id: `${String(input.ProjectName)}:rerun-${this.reruns}`, BuildStatus: 'SUCCEEDED' },
      });
    },
    retryStageExecution: (input) => {
      this.calls.push({ action: 'retryStageExecution', input });
      return Promise.resolve({ PipelineExecutionId: input.PipelineExecutionId });
    },
    rollbackStage: (input) => {
      this.calls.push({ action: 'rollbackStage', input });
      return Promise.resolve({ PipelineExecutionId: 'rollback-exec-1' });
    },
    publish: (input) => {
      this.calls.push({ action: 'publish', input: input as unknown as Record<string, unknown> });
      return Promise.resolve({ MessageId: `m-${this.calls.length}` });
    },
    requestApproval: (input) => {
      this.calls.push({ action: 'requestApproval', input: input as unknown as Record<string, unknown> });
      if (this.approval === 'DENY')
        return Promise.reject(new LocalTaskError('Pipemend.ApprovalDenied', 'denied by bob'));
      if (this.approval === 'TIMEOUT')
        return Promise.reject(new LocalTaskError('States.Timeout', 'Task timed out'));
      return Promise.resolve({ approved: true, by: 'bob' });
    },
    pipelineTarget: (input) => {
      this.calls.push({ action: `pipelineTarget:${String(input.operation)}`, input });
      if (this.failPipelineTarget) return Promise.reject(this.failPipelineTarget);
      switch (input.operation) {
        case 'retry-execution':
          return Promise.resolve({
            pipelineExecutionId: (input.classification as { target: { pipelineExecutionId: string } }).target
              .pipelineExecutionId,
          });
        case 'rollback-target':
          return Promise.resolve({ pipelineExecutionId: 'good-exec-0', pipelineVersion: 3 });
        default: {
          const answer = this.watchAnswers[Math.min(this.watches, this.watchAnswers.length - 1)];
          this.watches += 1;
          return Promise.resolve({ ...answer, checks: Number(input.checks) + 1 });
        }
      }
    },
  };
}

/** A fake CI and AWS, the local remediation over them, and a runner of `definition` on a simulated clock. */
export interface LocalWorld {
  readonly ci: FakeCi;
  readonly aws: FakeAws;
  readonly local: LocalRemediation;
  readonly runner: RemediationRunner;
  /** Advances the clock by `stepSeconds` (the world's step unless given), then runs one execution. */
  run(event: unknown, stepSeconds?: number): Promise<LocalExecution>;
}

/**
 * A local world for `definition`, its clock starting at 2026-11-21T12:00:00Z and advancing
 * `clockStepSeconds` before each run; `options` configure the local remediation as
 * createLocalRemediation's do (its CI ports, clock and AWS actions are the world's).
 */
export function localWorld(
  definition: ReturnType<typeof remediationDefinition>,
  options: Omit<LocalRemediationOptions, 'classifyPorts' | 'now' | 'actions'> & { clockStepSeconds: number },
): LocalWorld {
  const { clockStepSeconds, ...remediationOptions } = options;
  const ci = new FakeCi();
  const aws = new FakeAws();
  let clock = Date.parse('2026-11-21T12:00:00Z');
  const local = createLocalRemediation({
    ...remediationOptions,
    classifyPorts: ci,
    now: () => new Date(clock),
    actions: aws.actions,
  });
  const runner = new RemediationRunner(definition, local.handlers);
  return {
    ci,
    aws,
    local,
    runner,
    run: (event, stepSeconds = clockStepSeconds) => {
      clock += stepSeconds * 1000;
      return runner.run(event);
    },
  };
}
