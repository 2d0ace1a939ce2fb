import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';

import { BuildScoringGate, BuildScoringGateProps } from '../../lib/stage-condition-gate';
import { testApp } from '../helpers/synth';

const SCORER_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:pipemend-scorer';
const EXECUTION_ID = '#{codepipeline.PipelineExecutionId}';

/** A user's V2 pipeline, Source → Build → Deploy, with Pipemend's gate on the stages the options name. */
function gatedPipeline(
  options: {
    gate?: Partial<BuildScoringGateProps>;
    deployGate?: boolean;
    pipelineName?: string;
  } = {},
): { stack: Stack; gate: BuildScoringGate; template: Template } {
  const stack = new Stack(testApp(), 'App', { env: { account: '123456789012', region: 'eu-west-1' } });
  const scorer = lambda.Function.fromFunctionArn(stack, 'Scorer', SCORER_ARN);
  const pipeline = new codepipeline.Pipeline(stack, 'Pipeline', {
    pipelineName: options.pipelineName ?? 'app-pipeline',
    pipelineType: codepipeline.PipelineType.V2,
  });
  const source = new codepipeline.Artifact('Source');
  pipeline.addStage({
    stageName: 'Source',
    actions: [
      new actions.S3SourceAction({
        actionName: 'Source',
        bucket: new s3.Bucket(stack, 'SourceBucket'),
        bucketKey: 'app.zip',
        output: source,
      }),
    ],
  });
  const gate = new BuildScoringGate(stack, 'Gate', { scorer, pipeline, stageName: 'Build', ...options.gate });
  pipeline.addStage({
    stageName: 'Build',
    actions: [
      new actions.CodeBuildAction({
        actionName: 'Build',
        input: source,
        // No exported-variables: the gate needs no buildspec change.
        project: new codebuild.PipelineProject(stack, 'Project', {
          buildSpec: codebuild.BuildSpec.fromObject({
            version: '0.2',
            phases: { build: { commands: ['make'] } },
          }),
        }),
      }),
    ],
    onSuccess: gate.onSuccess,
  });
  const deployGate = options.deployGate
    ? new BuildScoringGate(stack, 'DeployGate', { scorer, pipeline, stageName: 'Deploy' })
    : undefined;
  pipeline.addStage({
    stageName: 'Deploy',
    actions: [new actions.ManualApprovalAction({ actionName: 'Approve' })],
    ...(deployGate ? { onFailure: deployGate.onFailure } : {}),
  });
  return { stack, gate, template: Template.fromStack(stack) };
}

function ruleParameters(stageName: string, extra: Record<string, string> = {}): string {
  return JSON.stringify({
    mode: 'gate',
    pipelineName: 'app-pipeline',
    pipelineExecutionId: EXECUTION_ID,
    stageName,
    ...extra,
    invokedBy: 'rule',
  });
}

describe('BuildScoringGate', () => {
  test("the Build stage's On Success condition holds the LambdaInvoke rule calling the scorer, result FAIL", () => {
    const { template } = gatedPipeline();
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      PipelineType: 'V2',
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: 'Build',
          OnSuccess: {
            Conditions: [
              {
                Result: 'FAIL',
                Rules: [
                  {
                    Name: 'PipemendBuild',
                    RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'LambdaInvoke', Version: '1' },
                    Configuration: {
                      FunctionName: 'pipemend-scorer',
                      UserParameters: ruleParameters('Build'),
                    },
                  },
                ],
              },
            ],
          },
        }),
      ]),
    });
  });

  test('the pipeline role may invoke the scorer (and its versions)', () => {
    const { template } = gatedPipeline();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^PipelineRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [SCORER_ARN, `${SCORER_ARN}:*`] },
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^PipelineRole') }],
    });
  });

  test('no other stage gets a condition, and no action is added for scoring', () => {
    const { template } = gatedPipeline();
    const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as {
      Properties: { Stages: { Name: string; Actions: { Name: string }[]; OnSuccess?: unknown }[] };
    }[];
    const stages = pipeline!.Properties.Stages;
    expect(stages.map((stage) => [stage.Name, stage.Actions.map((action) => action.Name)])).toEqual([
      ['Source', ['Source']],
      ['Build', ['Build']],
      ['Deploy', ['Approve']],
    ]);
    expect(stages.filter((stage) => stage.OnSuccess !== undefined).map((stage) => stage.Name)).toEqual([
      'Build',
    ]);
  });

  test('a deploy stage gated On Failure rolls back', () => {
    const { template } = gatedPipeline({ deployGate: true });
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: 'Deploy',
          OnFailure: {
            Result: 'ROLLBACK',
            Conditions: [
              {
                Result: 'ROLLBACK',
                Rules: [
                  Match.objectLike({
                    Name: 'PipemendDeploy',
                    RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'LambdaInvoke', Version: '1' },
                    Configuration: {
                      FunctionName: 'pipemend-scorer',
                      UserParameters: ruleParameters('Deploy'),
                    },
                  }),
                ],
              },
            ],
          },
        }),
      ]),
    });
  });

  test('result, mode, action and rule name are configurable', () => {
    const { gate, template } = gatedPipeline({
      gate: {
        result: codepipeline.Result.ROLLBACK,
        mode: 'observe',
        actionName: 'Build',
        ruleName: 'ScoreBuild',
      },
    });
    expect(JSON.parse(gate.userParameters)).toEqual({
      mode: 'observe',
      pipelineName: 'app-pipeline',
      pipelineExecutionId: EXECUTION_ID,
      stageName: 'Build',
      actionName: 'Build',
      invokedBy: 'rule',
    });
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Name: 'Build',
          OnSuccess: {
            Conditions: [
              {
                Result: 'ROLLBACK',
                Rules: [Match.objectLike({ Name: 'ScoreBuild', Configuration: Match.objectLike({}) })],
              },
            ],
          },
        }),
      ]),
    });
  });
});

describe('BuildScoringGate validation', () => {
  function make(props: Partial<BuildScoringGateProps>, pipelineProps: codepipeline.PipelineProps = {}) {
    return () => {
      const stack = new Stack(testApp(), 'S');
      return new BuildScoringGate(stack, 'Gate', {
        scorer: lambda.Function.fromFunctionArn(stack, 'Scorer', SCORER_ARN),
        pipeline: new codepipeline.Pipeline(stack, 'Pipeline', {
          pipelineName: 'app-pipeline',
          pipelineType: codepipeline.PipelineType.V2,
          ...pipelineProps,
        }),
        stageName: 'Build',
        ...props,
      });
    };
  }

  test('a pipeline without an explicit name is refused, saying why', () => {
    expect(make({}, { pipelineName: undefined })).toThrow(
      'BuildScoringGate needs a pipeline with an explicit pipelineName: the rule passes the name to the scorer, and a pipeline cannot reference its own generated name',
    );
  });

  test('On Success conditions take FAIL or ROLLBACK only', () => {
    expect(make({ result: codepipeline.Result.SKIP })).toThrow("result must be FAIL or ROLLBACK, got 'SKIP'");
  });

  test('an unknown mode is refused', () => {
    expect(make({ mode: 'block' as unknown as 'gate' })).toThrow(
      "mode must be 'gate' or 'observe', got 'block'",
    );
  });

  test('stage, action and rule names are checked', () => {
    expect(make({ stageName: 'Build stage' })).toThrow(
      "stageName 'Build stage' is not a valid CodePipeline stage name",
    );
    expect(make({ actionName: 'my build' })).toThrow(
      "actionName 'my build' is not a valid CodePipeline action name",
    );
    expect(make({ ruleName: 'x'.repeat(101) })).toThrow(/^ruleName 'x+' is not a valid rule name/);
  });
});
