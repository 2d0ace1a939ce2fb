import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { DataLake } from './data-lake';
import { DeadLetterQueue } from './dead-letter-queue';
import { PipemendFunction } from './pipemend-function';
import { FEATURE_NAMES } from '../core/collection/build-record';

/** Data-lake prefixes the collector writes (and, for links, reads). */
export const COLLECTOR_WRITE_PREFIXES = ['builds/', 'features/', 'pipelines/', 'pipeline-links/'] as const;

/** CodeBuild build states that end a build: the only ones the collector needs. */
export const TERMINAL_BUILD_STATES = ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'];

export interface BuildCollectionProps {
  /** The data lake the records go to; its Glue database receives the tables. */
  readonly dataLake: DataLake;
  /**
   * CodeBuild projects to collect.
   * @default - every project of the account and region
   */
  readonly projects?: readonly string[];
  /**
   * CodePipeline pipelines whose stage and action changes are collected.
   * @default - every pipeline of the account and region
   */
  readonly pipelines?: readonly string[];
  /**
   * How long EventBridge keeps retrying delivery of an event to the collector before dead-lettering it.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
  /**
   * How many times EventBridge retries a failed delivery.
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * Reserved concurrency of the collector: bounds the CodeBuild/CloudWatch API rate during event bursts.
   * @default 10
   */
  readonly reservedConcurrency?: number;
}

/**
 * Build-metric collection: EventBridge rules for finished CodeBuild builds and CodePipeline stage/action
 * changes, the collector Lambda that turns them into BuildRecords in the data lake and EMF metrics,
 * and the Glue tables that make the history queryable with Athena.
 */
export class BuildCollection extends Construct {
  public readonly collector: PipemendFunction;
  /** `CodeBuild Build State Change` in a terminal state. */
  public readonly buildStateRule: events.Rule;
  public readonly pipelineActionRule: events.Rule;
  public readonly pipelineStageRule: events.Rule;
  /** Events EventBridge could not deliver to the collector after its retries. */
  public readonly eventDeadLetterQueue: DeadLetterQueue;
  public readonly buildsTable: glue.CfnTable;
  public readonly featuresTable: glue.CfnTable;
  public readonly pipelineTransitionsTable: glue.CfnTable;

  constructor(scope: Construct, id: string, props: BuildCollectionProps) {
    super(scope, id);
    const projects = [...(props.projects ?? [])];
    const pipelines = [...(props.pipelines ?? [])];
    const maxEventAge = props.maxEventAge ?? Duration.hours(2);
    const retryAttempts = props.retryAttempts ?? 8;
    const reservedConcurrency = props.reservedConcurrency ?? 10;
    validateNames('projects', projects, /^[A-Za-z0-9][A-Za-z0-9\-_]{1,254}$/);
    validateNames('pipelines', pipelines, /^[A-Za-z0-9.@\-_]{1,100}$/);
    if (maxEventAge.toSeconds() < 60 || maxEventAge.toSeconds() > 86_400) {
      throw new Error(
        `maxEventAge must be between 1 minute and 24 hours, got ${maxEventAge.toSeconds()} seconds`,
      );
    }
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 185) {
      throw new Error(`retryAttempts must be an integer from 0 to 185, got ${retryAttempts}`);
    }
    if (!Number.isInteger(reservedConcurrency) || reservedConcurrency < 1) {
      throw new Error(`reservedConcurrency must be a positive integer, got ${reservedConcurrency}`);
    }

    const { bucket, key } = props.dataLake;
    this.collector = new PipemendFunction(this, 'Collector', {
      handlerDir: 'collector',
      description: 'Pipemend: collects finished CodeBuild builds and CodePipeline changes into the data lake',
      memorySize: 256,
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: reservedConcurrency,
      encryptionKey: key,
      environment: { DATA_LAKE_BUCKET: bucket.bucketName },
    });
    this.grantCollector(props.dataLake, projects);

    this.eventDeadLetterQueue = new DeadLetterQueue(this, 'EventDlq');
    const target = new targets.LambdaFunction(this.collector, {
      deadLetterQueue: this.eventDeadLetterQueue,
      maxEventAge,
      retryAttempts,
    });
    this.buildStateRule = new events.Rule(this, 'BuildStateRule', {
      description: 'Pipemend: finished CodeBuild builds',
      eventPattern: {
        source: ['aws.codebuild'],
        detailType: ['CodeBuild Build State Change'],
        detail: {
          'build-status': TERMINAL_BUILD_STATES,
          ...(projects.length > 0 ? { 'project-name': projects } : {}),
        },
      },
      targets: [target],
    });
    const pipelineFilter = pipelines.length > 0 ? { detail: { pipeline: pipelines } } : {};
    this.pipelineActionRule = new events.Rule(this, 'PipelineActionRule', {
      description: 'Pipemend: CodePipeline action state changes (links CodeBuild actions to their builds)',
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Action Execution State Change'],
        ...pipelineFilter,
      },
      targets: [target],
    });
    this.pipelineStageRule = new events.Rule(this, 'PipelineStageRule', {
      description: 'Pipemend: CodePipeline stage state changes',
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Stage Execution State Change'],
        ...pipelineFilter,
      },
      targets: [target],
    });

    const tables = new AthenaTables(props.dataLake, projects, pipelines);
    this.buildsTable = tables.table(this, 'BuildsTable', 'builds', 'project', {
      description: 'One JSON BuildRecord per finished build',
      serde: JSON_SERDE,
      columns: BUILD_RECORD_COLUMNS,
    });
    this.featuresTable = tables.table(this, 'FeaturesTable', 'features', 'project', {
      description: 'One CSV feature row per build, in the model feature order (no header)',
      serde: {
        serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
        parameters: { 'field.delim': ',' },
      },
      columns: FEATURE_NAMES.map((name) => ({ name: name.toLowerCase(), type: 'double' })),
    });
    this.pipelineTransitionsTable = tables.table(this, 'PipelineTransitionsTable', 'pipelines', 'pipeline', {
      description: 'CodePipeline stage and action state changes, one JSON object each',
      serde: JSON_SERDE,
      columns: PIPELINE_TRANSITION_COLUMNS,
    });
  }

  private grantCollector(dataLake: DataLake, projects: readonly string[]): void {
    const stack = Stack.of(this);
    const arn = (resource: string) => stack.formatArn({ service: 'codebuild', resource, resourceName: '*' });
    const projectArns =
      projects.length > 0
        ? projects.map((project) =>
            stack.formatArn({ service: 'codebuild', resource: 'project', resourceName: project }),
          )
        : [arn('project')];
    this.collector.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codebuild:BatchGetBuilds'], resources: projectArns }),
    );
    // Report groups are named freely (buildspecs may name any group by ARN), so they cannot be derived
    // from the project names; this grants read access to test summaries in this account and region only.
    this.collector.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codebuild:BatchGetReports'], resources: [arn('report-group')] }),
    );
    // GetMetricData supports no resource-level permissions: "*" is the only valid resource.
    this.collector.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
    );
    this.collector.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: COLLECTOR_WRITE_PREFIXES.map((prefix) => dataLake.bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    this.collector.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [dataLake.bucket.arnForObjects('pipeline-links/*')],
      }),
    );
    // Without ListBucket, S3 answers a GetObject of a missing key with 403 instead of 404, and the
    // collector could not tell "no pipeline link yet" from a real permission problem.
    this.collector.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [dataLake.bucket.bucketArn] }),
    );
    this.collector.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [dataLake.key.keyArn],
      }),
    );
    const role = this.collector.role;
    const policy = role?.node.tryFindChild('DefaultPolicy');
    const bucketToken = stack.resolve(stack.getLogicalId(dataLake.bucket.node.defaultChild as s3.CfnBucket));
    if (policy) {
      Validations.of(policy).acknowledge(
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
          reason:
            'cloudwatch:GetMetricData and the X-Ray trace upload have no resource-level permissions; "*" is the only valid resource.',
        },
        {
          id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/*]',
          reason:
            'Test reports may belong to any report group (named freely in buildspecs); read-only, this account and region.',
        },
        ...(projects.length === 0
          ? [
              {
                id: 'AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:project/*]',
                reason:
                  'No projects are configured: Pipemend collects every CodeBuild project of the account and region.',
              },
            ]
          : []),
        ...COLLECTOR_WRITE_PREFIXES.map((prefix) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketToken}.Arn>/${prefix}*]`,
          reason: `One object per build or pipeline change under ${prefix}; the keys are only known at run time.`,
        })),
      );
    }
  }
}

const JSON_SERDE = {
  serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
  parameters: { 'ignore.malformed.json': 'true' },
};

const BUILD_RECORD_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: 'schemaversion', type: 'int' },
  { name: 'buildarn', type: 'string' },
  { name: 'buildid', type: 'string' },
  { name: 'buildnumber', type: 'int' },
  { name: 'projectname', type: 'string' },
  { name: 'status', type: 'string' },
  { name: 'starttime', type: 'string', comment: 'ISO-8601' },
  { name: 'endtime', type: 'string', comment: 'ISO-8601' },
  { name: 'durationseconds', type: 'double' },
  {
    name: 'phases',
    type: 'struct<queued:double,provisioning:double,download_source:double,install:double,pre_build:double,build:double,post_build:double,upload_artifacts:double>',
    comment: 'seconds per CodeBuild phase',
  },
  { name: 'failedphase', type: 'string' },
  { name: 'sourceversion', type: 'string' },
  { name: 'resolvedsourceversion', type: 'string' },
  { name: 'initiator', type: 'string' },
  { name: 'computetype', type: 'string' },
  { name: 'image', type: 'string' },
  { name: 'logs', type: 'struct<groupname:string,streamname:string,s3location:string>' },
  {
    name: 'pipeline',
    type: 'struct<pipelinename:string,stagename:string,actionname:string,executionid:string>',
  },
  { name: 'tests', type: 'struct<total:int,failed:int,error:int,skipped:int>' },
  {
    name: 'utilization',
    type: 'struct<cpuutilizedpercent:double,memoryutilizedpercent:double,cpuutilized:double,memoryutilizedmb:double>',
  },
  { name: 'missing', type: 'struct<tests:boolean,utilization:boolean>' },
];

const PIPELINE_TRANSITION_COLUMNS: glue.CfnTable.ColumnProperty[] = [
  { name: 'schemaversion', type: 'int' },
  { name: 'eventid', type: 'string' },
  { name: 'level', type: 'string', comment: 'stage or action' },
  { name: 'pipelinename', type: 'string' },
  { name: 'executionid', type: 'string' },
  { name: 'stagename', type: 'string' },
  { name: 'actionname', type: 'string' },
  { name: 'state', type: 'string' },
  { name: 'time', type: 'string', comment: 'ISO-8601' },
  { name: 'pipelineversion', type: 'int' },
  { name: 'attempt', type: 'int' },
  { name: 'provider', type: 'string' },
  { name: 'category', type: 'string' },
  { name: 'externalexecutionid', type: 'string' },
  { name: 'externalexecutionurl', type: 'string' },
  { name: 'externalexecutionsummary', type: 'string' },
  { name: 'errorcode', type: 'string' },
];

interface TableSpec {
  readonly description: string;
  readonly serde: glue.CfnTable.SerdeInfoProperty;
  readonly columns: glue.CfnTable.ColumnProperty[];
}

/**
 * Glue tables with partition projection over `<prefix>/<name>=<value>/date=<yyyy-mm-dd>/`: no crawler
 * and no MSCK REPAIR; the first partition is an enum of the configured names, or injected (the query
 * names it) when every project/pipeline is collected.
 */
class AthenaTables {
  constructor(
    private readonly dataLake: DataLake,
    private readonly projects: readonly string[],
    private readonly pipelines: readonly string[],
  ) {}

  table(
    scope: Construct,
    id: string,
    prefix: string,
    partition: 'project' | 'pipeline',
    spec: TableSpec,
  ): glue.CfnTable {
    const names = partition === 'project' ? this.projects : this.pipelines;
    const location = `s3://${this.dataLake.bucket.bucketName}/${prefix}/`;
    const table = new glue.CfnTable(scope, id, {
      catalogId: Stack.of(scope).account,
      databaseName: this.dataLake.glueDatabaseName,
      tableInput: {
        name: prefix === 'pipelines' ? 'pipeline_transitions' : prefix,
        description: spec.description,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [
          { name: partition, type: 'string' },
          { name: 'date', type: 'string' },
        ],
        parameters: {
          classification: spec.serde.serializationLibrary?.includes('Json') ? 'json' : 'csv',
          'projection.enabled': 'true',
          ...(names.length > 0
            ? {
                [`projection.${partition}.type`]: 'enum',
                [`projection.${partition}.values`]: names.join(','),
              }
            : { [`projection.${partition}.type`]: 'injected' }),
          'projection.date.type': 'date',
          'projection.date.format': 'yyyy-MM-dd',
          'projection.date.range': '2020-01-01,NOW',
          'projection.date.interval': '1',
          'projection.date.interval.unit': 'DAYS',
          'storage.location.template': `${location}${partition}=\${${partition}}/date=\${date}/`,
        },
        storageDescriptor: {
          location,
          columns: spec.columns,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: spec.serde,
        },
      },
    });
    table.node.addDependency(this.dataLake.glueDatabase);
    return table;
  }
}

function validateNames(field: string, names: readonly string[], pattern: RegExp): void {
  const invalid = names.filter((name) => !pattern.test(name));
  if (invalid.length > 0) throw new Error(`${field} contains invalid names: ${invalid.join(', ')}`);
  const duplicates = names.filter((name, index) => names.indexOf(name) !== index);
  if (duplicates.length > 0) throw new Error(`${field} lists ${duplicates.join(', ')} more than once`);
}
