import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';

import { BuildScoringAction } from '../../lib/build-scoring-action';
import { testApp } from '../helpers/synth';

const SCORER_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:pipemend-scorer';

function userPipeline(): {
  stack: Stack;
  pipeline: codepipeline.Pipeline;
  buildStage: codepipeline.IStage;
  buildAction: actions.CodeBuildAction;
  scorer: lambda.IFunction;
} {
  const stack = new Stack(testApp(), 'App', { env: { account: '123456789012', region: 'eu-west-1' } });
  const source = new codepipeline.Artifact('Source');
  const pipeline = new codepipeline.Pipeline(stack, 'Pipeline', {
    pipelineType: codepipeline.PipelineType.V2,
  });
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
  const buildAction = new actions.CodeBuildAction({
    actionName: 'Build',
    input: source,
    variablesNamespace: 'Build',
    project: new codebuild.PipelineProject(stack, 'Project', {
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: { 'exported-variables': ['CODEBUILD_BUILD_ID'] },
        phases: { build: { commands: ['make'] } },
      }),
    }),
  });
  const buildStage = pipeline.addStage({ stageName: 'Build', actions: [buildAction] });
  pipeline.addStage({
    stageName: 'Deploy',
    actions: [new actions.ManualApprovalAction({ actionName: 'Approve' })],
  });
  const scorer = lambda.Function.fromFunctionArn(stack, 'Scorer', SCORER_ARN);
  return { stack, pipeline, buildStage, buildAction, scorer };
}

describe('BuildScoringAction', () => {
  test('invokes the scorer with the mode and the build action’s exported build id', () => {
    const { stack, buildStage, buildAction, scorer } = userPipeline();
    buildStage.addAction(new BuildScoringAction({ scorer, buildAction, runOrder: 2 }));
    Template.fromStack(stack).hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        {
          Name: 'Build',
          Actions: [
            Match.objectLike({ Name: 'Build', RunOrder: 1 }),
            {
              Name: 'ScoreBuild',
              ActionTypeId: { Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' },
              Configuration: {
                FunctionName: 'pipemend-scorer',
                UserParameters: '{"mode":"gate","buildId":"#{Build.CODEBUILD_BUILD_ID}"}',
              },
              RunOrder: 2,
              RoleArn: Match.anyValue(),
            },
          ],
        },
      ]),
    });
  });

  test('observe mode is passed through', () => {
    const { stack, buildStage, buildAction, scorer } = userPipeline();
    buildStage.addAction(new BuildScoringAction({ scorer, buildAction, mode: 'observe', runOrder: 2 }));
    Template.fromStack(stack).hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([
        Match.objectLike({
          Actions: Match.arrayWith([
            Match.objectLike({
              Configuration: Match.objectLike({
                UserParameters: '{"mode":"observe","buildId":"#{Build.CODEBUILD_BUILD_ID}"}',
              }),
            }),
          ]),
        }),
      ]),
    });
  });

  test('addStageAfter inserts a scoring stage right after the build stage', () => {
    const { stack, pipeline, buildStage, buildAction, scorer } = userPipeline();
    const action = BuildScoringAction.addStageAfter(pipeline, buildStage, {
      scorer,
      buildAction,
      variablesNamespace: 'Pipemend',
    });
    const [resource] = Object.values(
      Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline'),
    ) as {
      Properties: { Stages: { Name: string }[] };
    }[];
    expect(resource!.Properties.Stages.map((stage) => stage.Name)).toEqual([
      'Source',
      'Build',
      'Pipemend',
      'Deploy',
    ]);
    expect(stack.resolve(action.variable('verdict'))).toBe('#{Pipemend.verdict}');
  });

  test('the pipeline role may invoke the scorer', () => {
    const { stack, buildStage, buildAction, scorer } = userPipeline();
    buildStage.addAction(new BuildScoringAction({ scorer, buildAction, runOrder: 2 }));
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
          .Statement,
    );
    expect(statements).toContainEqual({
      Action: 'lambda:InvokeFunction',
      Effect: 'Allow',
      Resource: [SCORER_ARN, `${SCORER_ARN}:*`],
    });
  });

  test('an unknown mode is refused', () => {
    const { buildAction, scorer } = userPipeline();
    expect(() => new BuildScoringAction({ scorer, buildAction, mode: 'block' as unknown as 'gate' })).toThrow(
      "mode must be 'gate' or 'observe', got 'block'",
    );
  });
});
