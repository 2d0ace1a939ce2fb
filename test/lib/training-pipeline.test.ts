import { Match, Template } from 'aws-cdk-lib/assertions';

import { RCF_IMAGE_ACCOUNTS } from '../../lib/rcf-image';
import { stackArn } from '../helpers/arn';
import { synthPipemend } from '../helpers/synth';

type Json = Record<string, unknown>;

let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  template = synthPipemend({ config: { scorer: 'endpoint', trainingApproval: 'automatic' } }).template;
  resources = template.toJSON().Resources;
});

/** The deployed pipeline definition, CloudFormation references replaced by readable placeholders. */
function deployedDefinition(): Json {
  const pipelines = template.findResources('AWS::SageMaker::Pipeline');
  const [pipeline] = Object.values(pipelines) as {
    Properties: { PipelineDefinition: { PipelineDefinitionBody: unknown } };
  }[];
  const body = pipeline!.Properties.PipelineDefinition.PipelineDefinitionBody as {
    'Fn::Join': [string, unknown[]];
  };
  const text = body['Fn::Join'][1].map(placeholder).join('');
  return JSON.parse(text) as Json;
}

function placeholder(part: unknown): string {
  if (typeof part === 'string') return part;
  const value = part as Json;
  if ('Ref' in value) return `<Ref:${String(value.Ref)}>`;
  if ('Fn::GetAtt' in value) return `<${(value['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::FindInMap' in value) {
    const [map, key, attribute] = value['Fn::FindInMap'] as [string, Json, string];
    return `<${map}[${placeholder(key)}].${attribute}>`;
  }
  throw new Error(`unexpected token ${JSON.stringify(part)}`);
}

function logicalIdStartingWith(prefix: string, type: string): string {
  const id = Object.keys(resources).find((key) => key.startsWith(prefix) && resources[key]!.Type === type);
  if (!id) throw new Error(`no ${type} starting with ${prefix}`);
  return id;
}

describe('pipeline definition as deployed', () => {
  test('is the typed builder’s definition with the stack’s roles, functions, bucket and key', () => {
    const definition = deployedDefinition() as { Version: string; Steps: { Name: string; Type: string }[] };
    expect(definition.Version).toBe('2020-12-01');
    expect(definition.Steps.map((s) => `${s.Name}:${s.Type}`)).toEqual([
      'AssembleWindow:Lambda',
      'TrainModel:Training',
      'CreateCandidateModel:Model',
      'ScoreRecentBuilds:Transform',
      'EvaluateModel:Lambda',
      'CheckNoWorseThanApproved:Condition',
    ]);
    const text = JSON.stringify(definition);
    const window = logicalIdStartingWith('TrainingPipelineWindowStep', 'AWS::Lambda::Function');
    const evaluate = logicalIdStartingWith('TrainingPipelineEvaluateStep', 'AWS::Lambda::Function');
    const executionRole = logicalIdStartingWith('TrainingPipelineExecutionRole', 'AWS::IAM::Role');
    expect(text).toContain(`"FunctionArn":"<${window}.Arn>"`);
    expect(text).toContain(`"FunctionArn":"<${evaluate}.Arn>"`);
    expect(text).toContain(`"RoleArn":"<${executionRole}.Arn>"`);
    expect(text).toContain('"s3://","<Ref:DataLakeBucketEF1CCA5A>","/training/"');
  });

  test('trains with the built-in RCF image of the deployment region, looked up in a mapping', () => {
    const definition = deployedDefinition() as { Steps: { Name: string; Arguments: Json }[] };
    const train = definition.Steps.find((s) => s.Name === 'TrainModel')!.Arguments;
    expect(train.AlgorithmSpecification).toEqual({
      TrainingImage:
        '<RandomCutForestImageAccounts[<Ref:AWS::Region>].account>.dkr.ecr.<Ref:AWS::Region>.<Ref:AWS::URLSuffix>/randomcutforest:1',
      TrainingInputMode: 'File',
    });
    expect(train.HyperParameters).toEqual({
      feature_dim: '12',
      num_trees: { 'Std:Join': { On: '', Values: [{ Get: 'Parameters.NumTrees' }] } },
      num_samples_per_tree: { 'Std:Join': { On: '', Values: [{ Get: 'Parameters.NumSamplesPerTree' }] } },
    });
  });

  test('the mapping holds the SageMaker SDK’s randomcutforest account for every region', () => {
    const mapping = template.toJSON().Mappings.RandomCutForestImageAccounts as Record<
      string,
      { account: string }
    >;
    expect(mapping['us-east-1']).toEqual({ account: '382416733822' });
    expect(mapping['eu-west-1']).toEqual({ account: '438346466558' });
    expect(mapping['ap-southeast-2']).toEqual({ account: '712309505854' });
    expect(Object.keys(mapping)).toHaveLength(Object.keys(RCF_IMAGE_ACCOUNTS).length);
  });

  test('automatic approval registers versions as Approved by default', () => {
    const definition = deployedDefinition() as { Parameters: { Name: string; DefaultValue: unknown }[] };
    expect(definition.Parameters.find((p) => p.Name === 'ModelApprovalStatus')?.DefaultValue).toBe(
      'Approved',
    );
  });

  test('manual approval (the default) registers versions pending approval', () => {
    const manual = synthPipemend({ config: { scorer: 'endpoint' } }).template;
    const [pipeline] = Object.values(manual.findResources('AWS::SageMaker::Pipeline')) as {
      Properties: { PipelineDefinition: { PipelineDefinitionBody: { 'Fn::Join': [string, unknown[]] } } };
    }[];
    const text = pipeline!.Properties.PipelineDefinition.PipelineDefinitionBody['Fn::Join'][1]
      .filter((p): p is string => typeof p === 'string')
      .join('');
    expect(text).toContain(
      '{"Name":"ModelApprovalStatus","Type":"String","DefaultValue":"PendingManualApproval"}',
    );
  });
});

describe('resources', () => {
  test('a model package group named after the endpoint receives the versions', () => {
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: 'pipemend-rcf-versions',
    });
    template.hasResourceProperties('AWS::SageMaker::Pipeline', {
      PipelineName: 'pipemend-rcf-training',
      RoleArn: {
        'Fn::GetAtt': [logicalIdStartingWith('TrainingPipelinePipelineRole', 'AWS::IAM::Role'), 'Arn'],
      },
    });
  });

  test('the pipeline is started weekly (Mondays 03:00 UTC) by EventBridge Scheduler, with retries and a DLQ', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 ? * MON *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'ENABLED',
      Target: {
        Arn: stackArn('sagemaker', 'pipeline/pipemend-rcf-training'),
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TrainingPipelineRetrainingScheduleDlq'), 'Arn'] },
        },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 2 },
        RoleArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^TrainingPipelineRetrainingSchedulerRole'), 'Arn'],
        },
      },
    });
  });

  test('the drift check runs daily and may start only this pipeline', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 5 * * ? *)',
      Target: {
        Arn: {
          'Fn::GetAtt': [
            logicalIdStartingWith('TrainingPipelineRetrainingDriftCheck', 'AWS::Lambda::Function'),
            'Arn',
          ],
        },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^TrainingPipelineRetrainingDriftCheckServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['sagemaker:ListPipelineExecutions', 'sagemaker:StartPipelineExecution'],
            Effect: 'Allow',
            Resource: stackArn('sagemaker', 'pipeline/pipemend-rcf-training'),
          },
        ]),
      },
    });
  });
});

describe('IAM', () => {
  const policies = () =>
    Object.entries(resources).filter(
      ([id, r]) => r.Type === 'AWS::IAM::Policy' && /^(TrainingPipeline|ModelEndpoint)/.test(id),
    ) as unknown as [string, { Properties: { PolicyDocument: { Statement: Json[] } } }][];
  const statements = () =>
    policies().flatMap(([id, p]) => p.Properties.PolicyDocument.Statement.map((s) => ({ id, s })));
  const actions = (s: Json) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[];

  test('iam:PassRole is granted only for the SageMaker roles, only to sagemaker.amazonaws.com', () => {
    const passRoles = statements().filter(({ s }) => actions(s).includes('iam:PassRole'));
    expect(passRoles).toHaveLength(2);
    for (const { s } of passRoles) {
      expect(actions(s)).toEqual(['iam:PassRole']);
      expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    }
    expect(passRoles.map(({ s }) => s.Resource)).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [logicalIdStartingWith('TrainingPipelineExecutionRole', 'AWS::IAM::Role'), 'Arn'] },
        { 'Fn::GetAtt': [logicalIdStartingWith('ModelEndpointModelRole', 'AWS::IAM::Role'), 'Arn'] },
      ]),
    );
  });

  test('the pipeline role passes the execution role with exactly this statement', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdStartingWith('TrainingPipelinePipelineRole', 'AWS::IAM::Role') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'iam:PassRole',
            Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
            Effect: 'Allow',
            Resource: {
              'Fn::GetAtt': [logicalIdStartingWith('TrainingPipelineExecutionRole', 'AWS::IAM::Role'), 'Arn'],
            },
          },
        ]),
      },
    });
  });

  test('S3 access reaches only the data lake’s features/, training/, models/ and labels/ prefixes', () => {
    const allowed = ['features/*', 'training/*', 'models/*', 'labels/*'];
    const s3Statements = statements().filter(({ s }) => actions(s).some((a) => a.startsWith('s3:')));
    expect(s3Statements.length).toBeGreaterThan(5);
    for (const { id, s } of s3Statements) {
      const resourcesOf = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]) as Json[];
      if (actions(s).includes('s3:ListBucket')) {
        expect({ id, resource: resourcesOf }).toEqual({
          id,
          resource: [{ 'Fn::GetAtt': ['DataLakeBucketEF1CCA5A', 'Arn'] }],
        });
        const prefixes = (s.Condition as { StringLike: { 's3:prefix': string[] } }).StringLike['s3:prefix'];
        expect(prefixes.every((p) => allowed.includes(p))).toBe(true);
        continue;
      }
      for (const resource of resourcesOf) {
        const parts = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        expect(parts[0]).toEqual({ 'Fn::GetAtt': ['DataLakeBucketEF1CCA5A', 'Arn'] });
        expect(allowed).toContain((parts[1] as string).replace(/^\//, ''));
      }
    }
  });

  test('the window step reads features/ and writes training/ only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^TrainingPipelineWindowStepServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': ['', [{ 'Fn::GetAtt': ['DataLakeBucketEF1CCA5A', 'Arn'] }, '/features/*']],
            },
          },
          {
            Action: 's3:ListBucket',
            Condition: { StringLike: { 's3:prefix': ['features/*'] } },
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': ['DataLakeBucketEF1CCA5A', 'Arn'] },
          },
          {
            Action: 's3:PutObject',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': ['', [{ 'Fn::GetAtt': ['DataLakeBucketEF1CCA5A', 'Arn'] }, '/training/*']],
            },
          },
        ]),
      },
    });
  });

  test('SageMaker assumes the execution role; SageMaker Pipelines may invoke only the two step functions', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' } },
        ],
      },
      Description: 'Pipemend: RCF training job, candidate model and batch transform',
    });
    const window = logicalIdStartingWith('TrainingPipelineWindowStep', 'AWS::Lambda::Function');
    const evaluate = logicalIdStartingWith('TrainingPipelineEvaluateStep', 'AWS::Lambda::Function');
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdStartingWith('TrainingPipelinePipelineRole', 'AWS::IAM::Role') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: [
              { 'Fn::GetAtt': [evaluate, 'Arn'] },
              { 'Fn::GetAtt': [window, 'Arn'] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [evaluate, 'Arn'] }, ':*']] },
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [window, 'Arn'] }, ':*']] },
            ],
          },
        ]),
      },
    });
  });
});

test('the embedded scorer gets the embedded trainer and no SageMaker pipeline', () => {
  const embedded = synthPipemend({ config: { scorer: 'embedded' } }).template;
  embedded.resourceCountIs('AWS::SageMaker::Pipeline', 0);
  embedded.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 0);
});
