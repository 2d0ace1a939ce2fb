/**
 * Runs Pipemend's synthesized remediation state machine locally with aws-local-stepfunctions: the very
 * definition CloudFormation would deploy, its CloudFormation tokens resolved to dummy ARNs, every Task
 * answered by a local handler. Tests drive every path through it; the local replay plugs in handlers
 * that answer from its simulation.
 */
import { App } from 'aws-cdk-lib';
import { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';

import { NotificationRoutes } from '../core/remediation/notification-routes';
import { REMEDIATION_STATES } from '../core/remediation/remediation';
import { notificationRoutesFromEnv } from '../lambda/remediation/notification-routes-env';
import { parsePipemendConfig, PipemendConfig } from '../lib/config';
import { PipemendStack } from '../lib/pipemend-stack';

export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

type LocalHandlers = NonNullable<
  NonNullable<Parameters<StateMachine['run']>[1]>['overrides']
>['taskResourceLocalHandlers'];
type JsonValue = Parameters<StateMachine['run']>[0];

type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

/** Synthesizes the Pipemend stack (no bundling) and returns its CloudFormation template. */
export function synthesizePipemendTemplate(config: Partial<PipemendConfig> = {}): CfnTemplate {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new PipemendStack(app, 'Pipemend', { config: parsePipemendConfig(config) });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}

/** The remediation state machine's definition from a template, with every token resolved. */
export function remediationDefinition(template: CfnTemplate): StateMachineDefinition {
  const machines = Object.entries(template.Resources).filter(
    ([logicalId, resource]) =>
      resource.Type === 'AWS::StepFunctions::StateMachine' && logicalId.startsWith('Remediation'),
  );
  const machine = machines[0];
  if (machines.length !== 1 || !machine) {
    throw new Error(`Expected one remediation state machine in the template, found ${machines.length}`);
  }
  const definition = resolveTokens(machine[1].Properties?.DefinitionString, template);
  if (typeof definition !== 'string') throw new Error('The state machine has no DefinitionString');
  return JSON.parse(definition) as StateMachineDefinition;
}

/** Routes for local runs that do not read them from a template: a main topic, no owners. */
export const LOCAL_NOTIFICATION_ROUTES: NotificationRoutes = {
  defaultTopicArn: `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:PipemendNotifications`,
  owners: {},
};

/**
 * The notification routes the record-outcome function is deployed with (its `NOTIFICATION_TOPIC_ARN`
 * and `OWNER_TOPICS`, tokens resolved as in the definition), parsed by the function's own code.
 */
export function notificationRoutesOf(template: CfnTemplate): NotificationRoutes {
  const functions = Object.values(template.Resources).filter((resource) => {
    const variables = (
      resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined
    )?.Variables;
    return resource.Type === 'AWS::Lambda::Function' && variables?.OWNER_TOPICS !== undefined;
  });
  const variables = (
    functions[0]?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined
  )?.Variables;
  if (functions.length !== 1 || !variables) {
    throw new Error(`Expected one function with OWNER_TOPICS in the template, found ${functions.length}`);
  }
  return notificationRoutesFromEnv({
    NOTIFICATION_TOPIC_ARN: resolveTokens(variables.NOTIFICATION_TOPIC_ARN, template) as string,
    OWNER_TOPICS: resolveTokens(variables.OWNER_TOPICS, template) as string,
  });
}

function resolveTokens(value: unknown, template: CfnTemplate): unknown {
  if (typeof value === 'string' || value === undefined) return value;
  if (Array.isArray(value)) return value.map((item) => resolveTokens(item, template));
  const object = value as Record<string, unknown>;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolveTokens(part, template)).join(separator);
  }
  if ('Fn::GetAtt' in object) {
    const [logicalId] = object['Fn::GetAtt'] as [string, string];
    return dummyArn(logicalId, template);
  }
  if ('Ref' in object) {
    const ref = object.Ref as string;
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': LOCAL_REGION,
      'AWS::AccountId': LOCAL_ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[ref] ?? dummyArn(ref, template);
  }
  throw new Error(`Cannot resolve ${JSON.stringify(value).slice(0, 200)} in the state machine definition`);
}

function dummyArn(logicalId: string, template: CfnTemplate): string {
  const type = template.Resources[logicalId]?.Type;
  switch (type) {
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${logicalId}`;
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${logicalId}`;
    default:
      return logicalId;
  }
}

/** Throw this from a handler to fail a Task with a given error name (what Retry/Catch match on). */
export class LocalTaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** Local answers for every Task state of the remediation state machine. */
export interface RemediationTaskHandlers {
  readonly classify: (input: { event: unknown }) => Promise<unknown>;
  readonly guard: (input: { classification: unknown; executionId: string }) => Promise<unknown>;
  /** FindRetryExecution, FindRollbackTarget and the two watch states. */
  readonly pipelineTarget: (input: Record<string, unknown>) => Promise<unknown>;
  readonly recordOutcome: (input: Record<string, unknown>) => Promise<unknown>;
  /** `codebuild:startBuild.sync`: resolve with `{Build: {Id, BuildStatus}}` when the build succeeded, throw when not. */
  readonly startBuild: (input: Record<string, unknown>) => Promise<unknown>;
  readonly retryStageExecution: (input: Record<string, unknown>) => Promise<unknown>;
  readonly rollbackStage: (input: Record<string, unknown>) => Promise<unknown>;
  readonly publish: (input: { TopicArn: string; Subject?: string; Message: unknown }) => Promise<unknown>;
  /**
   * The approval request (SNS `.waitForTaskToken`): resolve to approve; throw
   * `LocalTaskError('Pipemend.ApprovalDenied', …)` to deny or `LocalTaskError('States.Timeout', …)` for no answer.
   */
  readonly requestApproval: (input: {
    TopicArn: string;
    Subject?: string;
    Message: Record<string, unknown>;
  }) => Promise<unknown>;
}

export interface LocalExecution {
  readonly executionArn: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** Every state entered, in order. */
  readonly states: string[];
}

export class RemediationRunner {
  private readonly machine: StateMachine;
  private readonly stateHandlers: NonNullable<LocalHandlers>;
  private readonly zeroWaits: Record<string, number>;
  private readonly zeroRetries: Record<string, number>;
  private executions = 0;

  constructor(
    private readonly definition: StateMachineDefinition,
    handlers: RemediationTaskHandlers,
    private readonly options: { readonly stateMachineName?: string } = {},
  ) {
    this.machine = new StateMachine(definition, {
      validationOptions: { checkArn: false, checkPaths: false },
    });
    const asHandler =
      <T>(fn: (input: T) => Promise<unknown>) =>
      async (input: JsonValue): Promise<JsonValue> =>
        (await fn(input as T)) as JsonValue;
    this.stateHandlers = {
      [REMEDIATION_STATES.classify]: asHandler(handlers.classify),
      [REMEDIATION_STATES.guard]: asHandler(handlers.guard),
      [REMEDIATION_STATES.findRetryExecution]: asHandler(handlers.pipelineTarget),
      [REMEDIATION_STATES.findRollbackTarget]: asHandler(handlers.pipelineTarget),
      [REMEDIATION_STATES.watchRetry]: asHandler(handlers.pipelineTarget),
      [REMEDIATION_STATES.watchRollback]: asHandler(handlers.pipelineTarget),
      [REMEDIATION_STATES.record]: asHandler(handlers.recordOutcome),
      [REMEDIATION_STATES.rerunBuild]: asHandler(handlers.startBuild),
      [REMEDIATION_STATES.rerunBuildFromRevision]: asHandler(handlers.startBuild),
      [REMEDIATION_STATES.retryStage]: asHandler(handlers.retryStageExecution),
      [REMEDIATION_STATES.rollbackStage]: asHandler(handlers.rollbackStage),
      [REMEDIATION_STATES.publish]: asHandler(handlers.publish),
      [REMEDIATION_STATES.publishRecordFailure]: asHandler(handlers.publish),
      [REMEDIATION_STATES.requestApproval]: asHandler(handlers.requestApproval),
    };
    const states = Object.entries(definition.States);
    const missing = states
      .filter(([name, state]) => state.Type === 'Task' && !(name in this.stateHandlers))
      .map(([name]) => name);
    if (missing.length > 0) throw new Error(`No local handler for Task state(s): ${missing.join(', ')}`);
    this.zeroWaits = Object.fromEntries(
      states.filter(([, state]) => state.Type === 'Wait').map(([name]) => [name, 0]),
    );
    this.zeroRetries = Object.fromEntries(
      states.filter(([, state]) => 'Retry' in state).map(([name]) => [name, 0]),
    );
  }

  /** Names of the Task states, for checks that every one of them has run somewhere. */
  get taskStates(): string[] {
    return Object.entries(this.definition.States)
      .filter(([, state]) => state.Type === 'Task')
      .map(([name]) => name);
  }

  /** Runs one execution to its end; waits and retry pauses take no time. */
  async run(input: unknown, executionName?: string): Promise<LocalExecution> {
    this.executions += 1;
    const name = executionName ?? `local-${this.executions}`;
    const stateMachineName = this.options.stateMachineName ?? 'PipemendRemediation';
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachineName}:${name}`;
    const execution = this.machine.run(input as Parameters<StateMachine['run']>[0], {
      overrides: {
        taskResourceLocalHandlers: this.stateHandlers,
        waitTimeOverrides: this.zeroWaits,
        retryIntervalOverrides: this.zeroRetries,
      },
      context: {
        Execution: {
          Id: executionArn,
          Name: name,
          Input: input as JsonValue,
          StartTime: new Date().toISOString(),
        },
        StateMachine: {
          Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${stateMachineName}`,
          Name: stateMachineName,
        },
        Task: { Token: `local-task-token:${name}` },
      },
    });
    const states: string[] = [];
    const collecting = (async () => {
      for await (const event of execution.eventLogs) {
        if (event.type === 'StateEntered') states.push(event.state.name);
      }
    })();
    try {
      const output = await execution.result;
      await collecting;
      return { executionArn, status: 'SUCCEEDED', output, states };
    } catch (error) {
      await collecting.catch(() => undefined);
      const failure = error as Error;
      return {
        executionArn,
        status: 'FAILED',
        error: { name: failure.name, message: failure.message },
        states,
      };
    }
  }
}
