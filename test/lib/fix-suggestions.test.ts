import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

import { DataLake } from '../../lib/data-lake';
import { FixSuggestions, FixSuggestionsProps } from '../../lib/fix-suggestions';
import { PipemendEvents } from '../../lib/pipemend-events';
import { testApp } from '../helpers/synth';

const env = { account: '123456789012', region: 'eu-west-1' };

function synth(
  props: Omit<FixSuggestionsProps, 'dataLake' | 'events'> = {},
  options: { nag?: boolean } = {},
): { template: Template; construct: FixSuggestions; app: App } {
  const app = testApp();
  const stack = new Stack(app, 'Test', { env });
  const dataLake = new DataLake(stack, 'DataLake');
  const events = new PipemendEvents(stack, 'Events', { encryptionKey: dataLake.key });
  const construct = new FixSuggestions(stack, 'FixSuggestions', { dataLake, events, ...props });
  if (options.nag) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    app.synth();
  }
  return { template: Template.fromStack(stack), construct, app };
}

function bedrockStatements(template: Template): unknown[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: { Action: unknown }[] } } }).Properties
          .PolicyDocument.Statement,
    )
    .filter((statement) => JSON.stringify(statement.Action).includes('bedrock:'));
}

describe('FixSuggestions', () => {
  test('has no unacknowledged cdk-nag finding without Bedrock', () => {
    expect(() => synth({}, { nag: true })).not.toThrow();
  });

  test('has no unacknowledged cdk-nag finding with an inference profile and a guardrail', () => {
    expect(() =>
      synth(
        {
          bedrockModelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
          bedrockGuardrail: { id: 'gr-123', version: '1' },
          projects: ['app-build'],
        },
        { nag: true },
      ),
    ).not.toThrow();
  });

  const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
  const guardrailCondition = {
    'bedrock:GuardrailIdentifier': arn(':bedrock:eu-west-1:123456789012:guardrail/gr-123:1'),
  };

  test('grants InvokeModel only on the configured foundation model', () => {
    const { template } = synth({ bedrockModelId: 'anthropic.claude-3-5-haiku-20241022-v1:0' });
    expect(bedrockStatements(template)).toEqual([
      {
        Action: 'bedrock:InvokeModel',
        Effect: 'Allow',
        Resource: arn(':bedrock:eu-west-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0'),
      },
    ]);
  });

  test('grants an inference profile and its model only through that profile, with the guardrail condition', () => {
    const { template } = synth({
      bedrockModelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
      bedrockGuardrail: { id: 'gr-123', version: '1' },
    });
    const profile = arn(
      ':bedrock:eu-west-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0',
    );
    expect(bedrockStatements(template)).toEqual([
      {
        Action: 'bedrock:InvokeModel',
        Condition: { StringEquals: guardrailCondition },
        Effect: 'Allow',
        Resource: profile,
      },
      {
        Action: 'bedrock:InvokeModel',
        Condition: { StringEquals: { ...guardrailCondition, 'bedrock:InferenceProfileArn': profile } },
        Effect: 'Allow',
        Resource: arn(':bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0'),
      },
      {
        Action: 'bedrock:ApplyGuardrail',
        Effect: 'Allow',
        Resource: arn(':bedrock:eu-west-1:123456789012:guardrail/gr-123'),
      },
    ]);
  });

  test('grants a model given as an ARN exactly', () => {
    const modelArn = 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123';
    const { template } = synth({ bedrockModelId: modelArn });
    expect(bedrockStatements(template)).toEqual([
      { Action: 'bedrock:InvokeModel', Effect: 'Allow', Resource: modelArn },
    ]);
  });

  test('grants no Bedrock access and creates no token table without a model, but still deploys the suggester', () => {
    const { template } = synth();
    expect(bedrockStatements(template)).toEqual([]);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Pipemend: suggests fixes for failed builds from their redacted log excerpts',
      Environment: { Variables: Match.objectLike({ MAX_OUTPUT_TOKENS: '1024', EXCERPT_BUDGET_LINES: '50' }) },
    });
    const variables = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((fn) => JSON.stringify(fn))
      .find((fn) => fn.includes('suggests fixes'))!;
    expect(variables).not.toContain('BEDROCK_MODEL_ID');
  });

  test('passes the model, guardrail and budget to the function and creates the encrypted token table', () => {
    const { template } = synth({
      bedrockModelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
      bedrockGuardrail: { id: 'gr-123', version: '1' },
      dailyTokenBudget: 250000,
      maxOutputTokens: 600,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          BEDROCK_MODEL_ID: 'anthropic.claude-3-5-haiku-20241022-v1:0',
          BEDROCK_GUARDRAIL_ID: 'gr-123',
          BEDROCK_GUARDRAIL_VERSION: '1',
          DAILY_TOKEN_BUDGET: '250000',
          MAX_OUTPUT_TOKENS: '600',
          TOKEN_BUDGET_TABLE: { Ref: Match.stringLikeRegexp('TokenBudget') },
        }),
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'day', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'dynamodb:UpdateItem',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('TokenBudget'), 'Arn'] },
          },
        ]),
      },
    });
  });

  test('reads only the configured projects’ CodeBuild log streams and writes only under suggestions/', () => {
    const { template } = synth({ projects: ['app-build', 'api-build'] });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'logs:GetLogEvents',
            Effect: 'Allow',
            Resource: [
              arn(':logs:eu-west-1:123456789012:log-group:/aws/codebuild/api-build:log-stream:*'),
              arn(':logs:eu-west-1:123456789012:log-group:/aws/codebuild/app-build:log-stream:*'),
            ],
          },
          {
            Action: ['s3:GetObject', 's3:PutObject'],
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                [{ 'Fn::GetAtt': [Match.stringLikeRegexp('DataLakeBucket'), 'Arn'] }, '/suggestions/*'],
              ],
            },
          },
          {
            Action: 's3:ListBucket',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('DataLakeBucket'), 'Arn'] },
          },
          {
            Action: 'events:PutEvents',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('EventsBus'), 'Arn'] },
          },
          {
            Action: 'sns:Publish',
            Effect: 'Allow',
            Resource: { Ref: Match.stringLikeRegexp('EventsNotifications') },
          },
        ]),
      },
    });
  });

  test('triggers on verdicts of failed and passing builds on the Pipemend bus, with retries and a dead-letter queue', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('EventsBus') },
      EventPattern: {
        source: ['pipemend'],
        'detail-type': ['Pipemend Build Verdict'],
        detail: { status: ['FAILED', 'FAULT', 'TIMED_OUT', 'SUCCEEDED'] },
      },
      Targets: [
        Match.objectLike({
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('FixSuggestionsEventDlq'), 'Arn'] },
          },
          RetryPolicy: { MaximumEventAgeInSeconds: 21600, MaximumRetryAttempts: 4 },
        }),
      ],
    });
  });

  test.each([
    [{ dailyTokenBudget: 0 }, 'dailyTokenBudget must be a positive integer, got 0'],
    [{ maxOutputTokens: 10000 }, 'maxOutputTokens must be an integer between 64 and 4096, got 10000'],
    [{ excerptBudgetLines: 0 }, 'excerptBudgetLines must be an integer between 1 and 1000, got 0'],
    [{ retryAttempts: -1 }, 'retryAttempts must be an integer from 0 to 185, got -1'],
    [{ reservedConcurrency: 0 }, 'reservedConcurrency must be a positive integer, got 0'],
    [{ bedrockGuardrail: { id: 'gr', version: '1' } }, 'bedrockGuardrail requires bedrockModelId'],
    [
      { bedrockModelId: 'm', bedrockGuardrail: { id: 'gr', version: 'latest' } },
      "bedrockGuardrail.version must be a number or DRAFT, got 'latest'",
    ],
  ])('rejects %p with an exact message', (props, message) => {
    expect(() => synth(props as Partial<FixSuggestionsProps>)).toThrow(message);
  });
});
