#!/usr/bin/env node
/**
 * Pipemend and a team's CodePipeline V2 pipeline in one CDK app: Source → Build → Deploy, where the
 * Build stage may only succeed when Pipemend finds its build normal (a stage-condition rule), and a
 * failed Deploy rolls back.
 */
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BuildScoringGate, parsePipemendConfig, PipemendStack } from 'pipemend';

interface PipelineStackProps extends StackProps {
  /** Pipemend's scorer (the Pipemend stack's `ScorerFunctionArn` output). */
  readonly scorer: lambda.IFunction;
}

class PipelineStack extends Stack {
  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const sourceBucket = new s3.Bucket(this, 'Source', { versioned: true, enforceSSL: true });
    const project = new codebuild.PipelineProject(this, 'Build');
    const source = new codepipeline.Artifact('Source');
    const built = new codepipeline.Artifact('Built');

    const pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: 'example-app',
      pipelineType: codepipeline.PipelineType.V2,
    });
    const gate = new BuildScoringGate(this, 'BuildGate', {
      pipeline,
      scorer: props.scorer,
      stageName: 'Build',
    });
    pipeline.addStage({
      stageName: 'Source',
      actions: [
        new actions.S3SourceAction({
          actionName: 'Source',
          bucket: sourceBucket,
          bucketKey: 'app.zip',
          output: source,
        }),
      ],
    });
    pipeline.addStage({
      stageName: 'Build',
      actions: [
        new actions.CodeBuildAction({ actionName: 'Build', project, input: source, outputs: [built] }),
      ],
      onSuccess: gate.onSuccess,
    });
    pipeline.addStage({
      stageName: 'Deploy',
      actions: [new actions.S3DeployAction({ actionName: 'Deploy', bucket: sourceBucket, input: built })],
      onFailure: { result: codepipeline.Result.ROLLBACK },
    });
  }
}

const app = new App();
const pipemend = new PipemendStack(app, 'Pipemend', {
  config: parsePipemendConfig({ pipelines: ['example-app'], defaultMode: 'shadow' }),
});
new PipelineStack(app, 'ExampleAppPipeline', { scorer: pipemend.scoring.scorer });
