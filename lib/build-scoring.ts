import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { DataLake } from './data-lake';
import { DeadLetterQueue } from './dead-letter-queue';
import { PipemendFunction } from './pipemend-function';
import { parseTrendSettings, TrendSettings } from '../core/scoring/trend-settings';

/** Data-lake prefixes the scorer reads: model manifests and forests, build records, feature rows. */
export const SCORER_READ_PREFIXES = ['models/', 'builds/', 'features/', 'scoring/baselines/'] as const;
/** The one prefix the scorer writes: its cached per-project history baselines. */
export const SCORER_WRITE_PREFIX = 'scoring/baselines/';

const TERMINAL_BUILD_STATES = ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'];

export interface BuildScoringProps {
  /** The data lake holding build records, feature rows and models. */
  readonly dataLake: DataLake;
  /** Pipemend's event bus, where `Pipemend Build Verdict` events go. */
  readonly eventBus: events.IEventBus;
  /**
   * The model the scorer uses once one is trained: Pipemend's embedded forest from S3, or a SageMaker endpoint.
   * @default 'embedded'
   */
  readonly modelKind?: 'embedded' | 'endpoint';
  /** Name of the SageMaker RCF endpoint; required with `modelKind: 'endpoint'`, rejected otherwise. */
  readonly endpointName?: string;
  /**
   * CodeBuild projects whose builds outside CodePipeline are scored from EventBridge.
   * @default - every project of the account and region
   */
  readonly projects?: readonly string[];
  /**
   * CodePipeline pipelines whose stage-condition rules (BuildScoringGate) the scorer serves: it may list
   * their action executions (`codepipeline:ListActionExecutions`) to find the build a stage ran.
   * @default - every pipeline of the account and region
   */
  readonly pipelines?: readonly string[];
  /**
   * How many times the scorer re-reads a build record the collector has not written yet (1, 2, 4, 8... s apart).
   * @default 6
   */
  readonly recordWaitAttempts?: number;
  /**
   * How many times EventBridge retries a failed delivery before dead-lettering the event.
   * @default 4
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying an event.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
  /**
   * The trend test for slow creeps: the features it follows (`[]` turns it off) and how large
   * (`minShift`, robust scales) and how significant (`minZ`) the last day's rise must be.
   * @default - memory only, a rise of 1.2 scales at z ≥ 4 (docs/detection.md)
   */
  readonly trend?: TrendSettings;
}

/**
 * Post-build scoring: the scorer Lambda (a CodePipeline invoke action, a V2 stage-condition `LambdaInvoke`
 * rule, and an EventBridge target for builds outside CodePipeline), its narrow permissions, and the rule
 * that feeds it finished builds.
 */
export class BuildScoring extends Construct {
  public readonly scorer: PipemendFunction;
  /** Finished CodeBuild builds not started by CodePipeline (pipelines score theirs with BuildScoringAction). */
  public readonly buildStateRule: events.Rule;
  /** Events EventBridge could not deliver to the scorer after its retries. */
  public readonly eventDeadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: BuildScoringProps) {
    super(scope, id);
    const modelKind = props.modelKind ?? 'embedded';
    const projects = [...(props.projects ?? [])];
    const pipelines = [...(props.pipelines ?? [])];
    const recordWaitAttempts = props.recordWaitAttempts ?? 6;
    const retryAttempts = props.retryAttempts ?? 4;
    const maxEventAge = props.maxEventAge ?? Duration.hours(2);
    if (modelKind === 'endpoint' && !props.endpointName) {
      throw new Error("endpointName is required when modelKind is 'endpoint'");
    }
    if (modelKind === 'embedded' && props.endpointName) {
      throw new Error(
        "endpointName is only used with modelKind 'endpoint'; remove it or set modelKind: 'endpoint'",
      );
    }
    if (!Number.isInteger(recordWaitAttempts) || recordWaitAttempts < 1 || recordWaitAttempts > 7) {
      throw new Error(`recordWaitAttempts must be an integer from 1 to 7, got ${recordWaitAttempts}`);
    }
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(`retryAttempts must be an integer from 0 to 185, got ${retryAttempts}`);
    }
    if (maxEventAge.toSeconds() < 60 || maxEventAge.toSeconds() > 86_400) {
      throw new Error(
        `maxEventAge must be between 1 minute and 24 hours, got ${maxEventAge.toHumanString()}`,
      );
    }
    const trend = props.trend === undefined ? undefined : parseTrendSettings(props.trend, 'trend');
    for (const pipeline of pipelines) {
      if (!/^[A-Za-z0-9.@\-_]{1,100}$/.test(pipeline)) {
        throw new Error(`pipelines: '${pipeline}' is not a valid CodePipeline pipeline name`);
      }
    }
    for (const project of projects) {
      if (!/^[A-Za-z0-9][A-Za-z0-9\-_]{1,254}$/.test(project)) {
        throw new Error(`projects: '${project}' is not a valid CodeBuild project name`);
      }
    }

    const { bucket, key } = props.dataLake;
    // Waiting for the record takes at most 1+2+...+2^(n-2) s; the rest is scoring and answering.
    const waitSeconds = 2 ** (recordWaitAttempts - 1) - 1;
    this.scorer = new PipemendFunction(this, 'Scorer', {
      handlerDir: 'scorer',
      description: 'Pipemend: scores each finished build against the model and publishes the verdict',
      memorySize: 512,
      timeout: Duration.seconds(waitSeconds + 30),
      encryptionKey: key,
      environment: {
        DATA_LAKE_BUCKET: bucket.bucketName,
        EVENT_BUS_NAME: props.eventBus.eventBusName,
        MODEL_KIND: modelKind,
        RECORD_WAIT_ATTEMPTS: String(recordWaitAttempts),
        ...(props.endpointName ? { ENDPOINT_NAME: props.endpointName } : {}),
        ...(trend ? { TREND_SETTINGS: JSON.stringify(trend) } : {}),
      },
    });
    this.grantScorer(props, modelKind, pipelines);

    this.eventDeadLetterQueue = new DeadLetterQueue(this, 'EventDlq');
    this.buildStateRule = new events.Rule(this, 'BuildStateRule', {
      description: 'Pipemend: finished CodeBuild builds outside CodePipeline, to score',
      eventPattern: {
        source: ['aws.codebuild'],
        detailType: ['CodeBuild Build State Change'],
        detail: {
          'build-status': TERMINAL_BUILD_STATES,
          // Builds that CodePipeline started are scored by the pipeline's BuildScoringAction instead.
          'additional-information': { initiator: [{ 'anything-but': { prefix: 'codepipeline/' } }] },
          ...(projects.length > 0 ? { 'project-name': projects } : {}),
        },
      },
      targets: [
        new targets.LambdaFunction(this.scorer, {
          deadLetterQueue: this.eventDeadLetterQueue,
          retryAttempts,
          maxEventAge,
        }),
      ],
    });
  }

  private grantScorer(
    props: BuildScoringProps,
    modelKind: 'embedded' | 'endpoint',
    pipelines: readonly string[],
  ): void {
    const { bucket, key } = props.dataLake;
    const stack = Stack.of(this);
    this.scorer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: SCORER_READ_PREFIXES.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    this.scorer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${SCORER_WRITE_PREFIX}*`)],
      }),
    );
    // Listing is only needed for a project's recent builds: feature rows (the cold-start baseline) and
    // build records (the trend test's end times and statuses).
    this.scorer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': ['builds/*', 'features/*'] } },
      }),
    );
    this.scorer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }),
    );
    props.eventBus.grantPutEventsTo(this.scorer);
    if (modelKind === 'endpoint') {
      const name = props.endpointName!;
      this.scorer.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['sagemaker:InvokeEndpoint'],
          // SageMaker ARNs carry the endpoint name in lower case.
          resources: [
            stack.formatArn({
              service: 'sagemaker',
              resource: 'endpoint',
              resourceName: Token.isUnresolved(name) ? name : name.toLowerCase(),
            }),
          ],
        }),
      );
    }
    // PutJobSuccessResult and PutJobFailureResult support no resource-level permissions: "*" is the only valid resource.
    this.scorer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'],
        resources: ['*'],
      }),
    );
    // A stage-condition rule names the pipeline execution, not the build: the scorer looks the build up.
    const pipelineArn = (name: string) =>
      stack.formatArn({ service: 'codepipeline', resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    this.scorer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:ListActionExecutions'],
        resources: pipelines.length > 0 ? pipelines.map(pipelineArn) : [pipelineArn('*')],
      }),
    );

    const bucketToken = stack.resolve(stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket));
    const policy = this.scorer.role?.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge(
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
          reason:
            'codepipeline:PutJobSuccessResult/PutJobFailureResult and the X-Ray trace upload have no resource-level permissions; "*" is the only valid resource.',
        },
        ...[...SCORER_READ_PREFIXES, SCORER_WRITE_PREFIX]
          .filter((prefix, index, all) => all.indexOf(prefix) === index)
          .map((prefix) => ({
            id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketToken}.Arn>/${prefix}*]`,
            reason: `Objects under ${prefix} are keyed by project, date, build or model version, known only at run time.`,
          })),
        ...(pipelines.length > 0
          ? []
          : [
              {
                id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codepipeline:<AWS::Region>:<AWS::AccountId>:*]',
                reason:
                  'No pipelines configured: the scorer serves the stage-condition rules of every pipeline of the account and region, and only lists their action executions.',
              },
            ]),
      );
    }
  }
}
