import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { DataLake } from './data-lake';
import { DeadLetterQueue } from './dead-letter-queue';
import { PipemendEvents } from './pipemend-events';
import { PipemendFunction } from './pipemend-function';
import {
  PIPELINE_FAILURE_STATUSES,
  PIPELINE_INITIATOR_PREFIX,
  SUGGESTER_VERDICT_STATUSES,
} from '../core/suggestions/suggestion-routing';

/** Verdict statuses the suggester handles: failures get a suggestion, successes become the diff baseline. */
export const SUGGESTER_BUILD_STATUSES: string[] = [...SUGGESTER_VERDICT_STATUSES];

/** Geography prefixes of Bedrock cross-region inference profile ids (`us.anthropic...`). */
const INFERENCE_PROFILE_PREFIX = /^(us|eu|apac|us-gov|global|jp|au|ca)\.(.+)$/;

export interface BedrockGuardrailRef {
  /** Guardrail id (or ARN). */
  readonly id: string;
  /** Numeric version, or `DRAFT`. */
  readonly version: string;
}

export interface FixSuggestionsProps {
  readonly dataLake: DataLake;
  readonly events: PipemendEvents;
  /**
   * Bedrock model id, cross-region inference profile id (`us.anthropic...`) or model/profile ARN.
   * @default - no Bedrock: every suggestion comes from the offline signature library
   */
  readonly bedrockModelId?: string;
  /**
   * Guardrail applied to, and required for, every model request.
   * @default - no guardrail
   */
  readonly bedrockGuardrail?: BedrockGuardrailRef;
  /**
   * CodeBuild projects whose logs (`/aws/codebuild/<project>`) the suggester may read.
   * @default - every `/aws/codebuild/*` log group of the account and region
   */
  readonly projects?: readonly string[];
  /**
   * Buckets holding CodeBuild S3 logs, for projects that log to S3.
   * @default - none
   */
  readonly buildLogBuckets?: readonly s3.IBucket[];
  /**
   * Tokens (input + output) the suggester may spend per UTC day; beyond it suggestions are offline.
   * @default 1000000
   */
  readonly dailyTokenBudget?: number;
  /**
   * Maximum output tokens per suggestion.
   * @default 1024
   */
  readonly maxOutputTokens?: number;
  /**
   * Maximum log lines in an excerpt.
   * @default 50
   */
  readonly excerptBudgetLines?: number;
  /**
   * How many times EventBridge retries a failed delivery to the suggester.
   * @default 4
   */
  readonly retryAttempts?: number;
  /**
   * Reserved concurrency: bounds Bedrock and CloudWatch Logs calls in a burst of failures.
   * @default 5
   */
  readonly reservedConcurrency?: number;
}

/**
 * Fix suggestions: the suggester Lambda on Pipemend's verdicts (failed builds get a suggestion, passing
 * builds become the next diff baseline), its daily token budget table, and least-privilege access to
 * build logs, the configured Bedrock model, the data lake, the event bus and the notification topic.
 */
export class FixSuggestions extends Construct {
  public readonly suggester: PipemendFunction;
  public readonly verdictRule: events.Rule;
  /**
   * Failed builds that CodePipeline started: they get no verdict (the pipeline's scoring action runs only
   * after a successful build), so their CodeBuild state change goes to the suggester directly.
   */
  public readonly pipelineBuildFailureRule: events.Rule;
  /** Events EventBridge could not deliver after its retries. */
  public readonly eventDeadLetterQueue: DeadLetterQueue;
  /** Present only when a Bedrock model is configured. */
  public readonly tokenBudgetTable?: dynamodb.Table;

  constructor(scope: Construct, id: string, props: FixSuggestionsProps) {
    super(scope, id);
    const dailyTokenBudget = props.dailyTokenBudget ?? 1_000_000;
    const maxOutputTokens = props.maxOutputTokens ?? 1024;
    const excerptBudgetLines = props.excerptBudgetLines ?? 50;
    const retryAttempts = props.retryAttempts ?? 4;
    const reservedConcurrency = props.reservedConcurrency ?? 5;
    const projects = [...(props.projects ?? [])];
    if (!Number.isInteger(dailyTokenBudget) || dailyTokenBudget < 1) {
      throw new Error(`dailyTokenBudget must be a positive integer, got ${dailyTokenBudget}`);
    }
    if (!Number.isInteger(maxOutputTokens) || maxOutputTokens < 64 || maxOutputTokens > 4096) {
      throw new Error(`maxOutputTokens must be an integer between 64 and 4096, got ${maxOutputTokens}`);
    }
    if (!Number.isInteger(excerptBudgetLines) || excerptBudgetLines < 1 || excerptBudgetLines > 1000) {
      throw new Error(`excerptBudgetLines must be an integer between 1 and 1000, got ${excerptBudgetLines}`);
    }
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(`retryAttempts must be an integer from 0 to 185, got ${retryAttempts}`);
    }
    if (!Number.isInteger(reservedConcurrency) || reservedConcurrency < 1) {
      throw new Error(`reservedConcurrency must be a positive integer, got ${reservedConcurrency}`);
    }
    if (props.bedrockGuardrail && !props.bedrockModelId) {
      throw new Error('bedrockGuardrail requires bedrockModelId');
    }
    if (props.bedrockGuardrail && !/^(\d+|DRAFT)$/.test(props.bedrockGuardrail.version)) {
      throw new Error(
        `bedrockGuardrail.version must be a number or DRAFT, got '${props.bedrockGuardrail.version}'`,
      );
    }

    const { bucket, key } = props.dataLake;
    if (props.bedrockModelId) {
      this.tokenBudgetTable = new dynamodb.Table(this, 'TokenBudget', {
        partitionKey: { name: 'day', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
        timeToLiveAttribute: 'expiresAt',
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // One counter per day that expires after a week: nothing worth keeping.
        removalPolicy: RemovalPolicy.DESTROY,
      });
    }
    this.suggester = new PipemendFunction(this, 'Suggester', {
      handlerDir: 'suggester',
      description: 'Pipemend: suggests fixes for failed builds from their redacted log excerpts',
      memorySize: 1024,
      timeout: Duration.seconds(120),
      reservedConcurrentExecutions: reservedConcurrency,
      encryptionKey: key,
      environment: {
        DATA_LAKE_BUCKET: bucket.bucketName,
        EVENT_BUS_NAME: props.events.bus.eventBusName,
        TOPIC_ARN: props.events.topic.topicArn,
        MAX_OUTPUT_TOKENS: String(maxOutputTokens),
        EXCERPT_BUDGET_LINES: String(excerptBudgetLines),
        ...(props.bedrockModelId && this.tokenBudgetTable
          ? {
              BEDROCK_MODEL_ID: props.bedrockModelId,
              TOKEN_BUDGET_TABLE: this.tokenBudgetTable.tableName,
              DAILY_TOKEN_BUDGET: String(dailyTokenBudget),
            }
          : {}),
        ...(props.bedrockGuardrail
          ? {
              BEDROCK_GUARDRAIL_ID: props.bedrockGuardrail.id,
              BEDROCK_GUARDRAIL_VERSION: props.bedrockGuardrail.version,
            }
          : {}),
      },
    });
    this.grant(props, projects);

    this.eventDeadLetterQueue = new DeadLetterQueue(this, 'EventDlq');
    this.verdictRule = new events.Rule(this, 'VerdictRule', {
      description: 'Pipemend: verdicts of finished builds, for fix suggestions',
      eventBus: props.events.bus,
      eventPattern: {
        source: ['pipemend'],
        detailType: ['Pipemend Build Verdict'],
        detail: { status: SUGGESTER_BUILD_STATUSES },
      },
      targets: [
        new targets.LambdaFunction(this.suggester, {
          deadLetterQueue: this.eventDeadLetterQueue,
          maxEventAge: Duration.hours(6),
          retryAttempts,
        }),
      ],
    });
    this.pipelineBuildFailureRule = new events.Rule(this, 'PipelineBuildFailureRule', {
      description:
        'Pipemend: failed CodeBuild builds that CodePipeline started (they get no verdict), for fix suggestions',
      eventPattern: {
        source: ['aws.codebuild'],
        detailType: ['CodeBuild Build State Change'],
        detail: {
          'build-status': [...PIPELINE_FAILURE_STATUSES],
          'additional-information': { initiator: [{ prefix: PIPELINE_INITIATOR_PREFIX }] },
          ...(projects.length > 0 ? { 'project-name': projects } : {}),
        },
      },
      targets: [
        new targets.LambdaFunction(this.suggester, {
          deadLetterQueue: this.eventDeadLetterQueue,
          maxEventAge: Duration.hours(6),
          retryAttempts,
        }),
      ],
    });
  }

  private grant(props: FixSuggestionsProps, projects: readonly string[]): void {
    const stack = Stack.of(this);
    const fn = this.suggester;
    const logGroups =
      projects.length > 0 ? projects.map((project) => `/aws/codebuild/${project}`) : ['/aws/codebuild/*'];
    const logStreamArns = logGroups.map((group) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `${group}:log-stream:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['logs:GetLogEvents'], resources: logStreamArns }));
    for (const logBucket of props.buildLogBuckets ?? []) logBucket.grantRead(fn);

    const { bucket, key } = props.dataLake;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [bucket.arnForObjects('suggestions/*')],
      }),
    );
    // Without ListBucket, S3 answers a missing key with 403 instead of 404, and "no suggestion yet" or
    // "no passing build yet" could not be told from a real permission error. Key names only.
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    // Without ListBucket, S3 answers a missing key with 403 instead of 404, and "no suggestion yet" or
    // "no passing build yet" could not be told from a real permission error. Key names only.
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    );
    // The data-lake key also encrypts the topic and the token budget table.
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }),
    );
    props.events.bus.grantPutEventsTo(fn);
    props.events.topic.grantPublish(fn);
    if (this.tokenBudgetTable) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [this.tokenBudgetTable.tableArn],
        }),
      );
    }
    const bedrockAcknowledgements = props.bedrockModelId
      ? this.grantBedrock(props.bedrockModelId, props.bedrockGuardrail)
      : [];
    this.acknowledge(props, logStreamArns, bedrockAcknowledgements);
  }

  /** `bedrock:InvokeModel` (what Converse needs) on the configured model only. */
  private grantBedrock(modelId: string, guardrail: BedrockGuardrailRef | undefined): string[] {
    const stack = Stack.of(this);
    const guardrailArn = guardrail
      ? guardrail.id.startsWith('arn:')
        ? guardrail.id
        : stack.formatArn({ service: 'bedrock', resource: 'guardrail', resourceName: guardrail.id })
      : undefined;
    const conditions = guardrail
      ? { StringEquals: { 'bedrock:GuardrailIdentifier': `${guardrailArn}:${guardrail.version}` } }
      : undefined;
    const foundationModel = (region: string, id: string): string =>
      stack.formatArn({
        service: 'bedrock',
        region,
        account: '',
        resource: 'foundation-model',
        resourceName: id,
      });
    const acknowledgements: string[] = [];
    const profile = INFERENCE_PROFILE_PREFIX.exec(modelId);
    if (modelId.startsWith('arn:')) {
      this.suggester.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [modelId], conditions }),
      );
    } else if (profile) {
      const profileArn = stack.formatArn({
        service: 'bedrock',
        resource: 'inference-profile',
        resourceName: modelId,
      });
      this.suggester.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: [profileArn], conditions }),
      );
      // A cross-region profile routes each request to one of its regions, which the profile (not the
      // stack) defines: the model is granted in every region, but only when invoked through this profile.
      const routedModel = foundationModel('*', profile[2]!);
      this.suggester.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['bedrock:InvokeModel'],
          resources: [routedModel],
          conditions: {
            ...conditions,
            StringEquals: { ...conditions?.StringEquals, 'bedrock:InferenceProfileArn': profileArn },
          },
        }),
      );
      acknowledgements.push(routedModel);
    } else {
      this.suggester.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['bedrock:InvokeModel'],
          resources: [foundationModel(stack.region, modelId)],
          conditions,
        }),
      );
    }
    if (guardrailArn) {
      this.suggester.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['bedrock:ApplyGuardrail'], resources: [guardrailArn] }),
      );
    }
    return acknowledgements;
  }

  private acknowledge(
    props: FixSuggestionsProps,
    logStreamArns: readonly string[],
    bedrockWildcards: readonly string[],
  ): void {
    const stack = Stack.of(this);
    const role = this.suggester.role;
    const policy = role?.node.tryFindChild('DefaultPolicy');
    const bucketToken = stack.resolve(
      stack.getLogicalId(props.dataLake.bucket.node.defaultChild as s3.CfnBucket),
    );
    if (policy) {
      Validations.of(policy).acknowledge(
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
          reason: 'The X-Ray trace upload has no resource-level permissions; "*" is the only valid resource.',
        },
        {
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketToken}.Arn>/suggestions/*]`,
          reason:
            'One suggestion object per failed build (and one baseline pointer per project) under suggestions/.',
        },
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason:
            'Publishing to the KMS-encrypted notification topic needs data keys of that one key (topic.grantPublish).',
        },
        ...logStreamArns.map((arn) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResource(stack, arn)}]`,
          reason:
            'Each build logs to its own stream (named after the build id) in its project log group; read-only.',
        })),
        ...bedrockWildcards.map((arn) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagResource(stack, arn)}]`,
          reason:
            'The cross-region inference profile picks the region per request; the grant holds only through that profile (bedrock:InferenceProfileArn).',
        })),
      );
    }
  }
}

/** How cdk-nag prints a resource in a finding id: tokens become `<AWS::Partition>`, `<Logical.Arn>`. */
function nagResource(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) return JSON.stringify(resolved);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref) return `<${ref}>`;
      const getAtt = (part as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
      return getAtt ? `<${getAtt.join('.')}>` : JSON.stringify(part);
    })
    .join(join[0]);
}
