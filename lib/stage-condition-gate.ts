import { Token } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** The variable CodePipeline resolves to the id of the running execution. */
export const PIPELINE_EXECUTION_ID_VARIABLE = '#{codepipeline.PipelineExecutionId}';

const NAME = /^[A-Za-z0-9.@_-]{1,100}$/;

export interface BuildScoringGateProps {
  /** Pipemend's scorer function (`BuildScoring.scorer`, or imported by ARN from the Pipemend stack output). */
  readonly scorer: lambda.IFunction;
  /**
   * The V2 pipeline whose stage is gated. It needs an explicit `pipelineName`: the rule passes the name to
   * the scorer, and a pipeline cannot reference its own generated name.
   */
  readonly pipeline: codepipeline.Pipeline;
  /** The stage whose CodeBuild build is scored (the stage whose condition holds this gate's rule). */
  readonly stageName: string;
  /**
   * The CodeBuild action whose build is scored; needed only when the stage has several CodeBuild actions.
   * @default - the stage's only CodeBuild action
   */
  readonly actionName?: string;
  /**
   * `gate` fails the rule (so the condition's result applies) when the build is anomalous; `observe` only
   * records the verdict and always passes.
   * @default 'gate'
   */
  readonly mode?: 'gate' | 'observe';
  /**
   * What CodePipeline does when the rule fails. On Success conditions take `FAIL` or `ROLLBACK`; use
   * `ROLLBACK` for a deploy stage, to return it to the last successful execution.
   * @default codepipeline.Result.FAIL
   */
  readonly result?: codepipeline.Result;
  /**
   * Name of the rule, unique within the pipeline.
   * @default `Pipemend${stageName}` with characters a rule name cannot hold removed
   */
  readonly ruleName?: string;
}

/**
 * Native CodePipeline V2 gating: a `LambdaInvoke` rule that asks Pipemend's scorer whether the build a stage
 * ran is anomalous, for the stage's `onSuccess` (or, for a deploy stage, `onFailure`) condition. Nothing
 * changes in the buildspec and no action is added: the scorer finds the build from the pipeline execution.
 *
 * ```ts
 * const gate = new BuildScoringGate(this, 'Gate', { scorer, pipeline, stageName: 'Build' });
 * pipeline.addStage({ stageName: 'Build', actions: [build], onSuccess: gate.onSuccess });
 * ```
 *
 * Grants the pipeline role `lambda:InvokeFunction` on the scorer. For V1 pipelines use BuildScoringAction.
 */
export class BuildScoringGate extends Construct {
  /** The `LambdaInvoke` rule, to combine with other rules in a condition of your own. */
  public readonly rule: codepipeline.Rule;
  /** The rule in a condition with the configured result, for `StageProps.onSuccess`. */
  public readonly onSuccess: codepipeline.Conditions;
  /**
   * The rule in a ROLLBACK condition for `StageProps.onFailure` (a deploy stage): On Failure conditions
   * take only ROLLBACK, whatever `result` says.
   */
  public readonly onFailure: codepipeline.FailureConditions;
  /** The JSON the rule hands the scorer as `UserParameters`. */
  public readonly userParameters: string;

  constructor(scope: Construct, id: string, props: BuildScoringGateProps) {
    super(scope, id);
    const mode = props.mode ?? 'gate';
    const result = props.result ?? codepipeline.Result.FAIL;
    const { pipeline, stageName, actionName } = props;
    if (mode !== 'gate' && mode !== 'observe') {
      throw new Error(`mode must be 'gate' or 'observe', got '${String(mode)}'`);
    }
    if (result !== codepipeline.Result.FAIL && result !== codepipeline.Result.ROLLBACK) {
      throw new Error(`result must be FAIL or ROLLBACK, got '${String(result)}'`);
    }
    if (!NAME.test(stageName)) {
      throw new Error(`stageName '${stageName}' is not a valid CodePipeline stage name`);
    }
    if (actionName !== undefined && !NAME.test(actionName)) {
      throw new Error(`actionName '${actionName}' is not a valid CodePipeline action name`);
    }
    // `pipeline.pipelineName` is always a Ref to the pipeline itself; the declared name is on the L1.
    const pipelineName = (pipeline.node.defaultChild as codepipeline.CfnPipeline).name;
    if (pipelineName === undefined || Token.isUnresolved(pipelineName)) {
      throw new Error(
        'BuildScoringGate needs a pipeline with an explicit pipelineName: the rule passes the name to the scorer, and a pipeline cannot reference its own generated name',
      );
    }
    const ruleName = props.ruleName ?? `Pipemend${stageName.replace(/[^A-Za-z0-9@_-]/g, '')}`.slice(0, 100);
    if (!NAME.test(ruleName)) {
      throw new Error(`ruleName '${ruleName}' is not a valid rule name (1-100 of A-Z a-z 0-9 . @ - _)`);
    }

    this.userParameters = JSON.stringify({
      mode,
      pipelineName,
      pipelineExecutionId: PIPELINE_EXECUTION_ID_VARIABLE,
      stageName,
      ...(actionName !== undefined ? { actionName } : {}),
      invokedBy: 'rule',
    });
    this.rule = new codepipeline.Rule({
      name: ruleName,
      provider: 'LambdaInvoke',
      version: '1',
      configuration: { FunctionName: props.scorer.functionName, UserParameters: this.userParameters },
    });
    this.onSuccess = { conditions: [{ rules: [this.rule], result }] };
    const rollback = codepipeline.Result.ROLLBACK;
    this.onFailure = { conditions: [{ rules: [this.rule], result: rollback }], result: rollback };

    // The rule runs with the pipeline's service role.
    props.scorer.grantInvoke(pipeline.role);
  }
}
