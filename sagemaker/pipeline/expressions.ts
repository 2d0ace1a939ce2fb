/**
 * Typed SageMaker Pipelines expressions (definition version 2020-12-01): references to parameters,
 * execution variables and step properties, and `Std:Join`, resolved by SageMaker at run time.
 */

export interface GetExpression {
  readonly Get: string;
}

export interface JoinExpression {
  readonly 'Std:Join': { readonly On: string; readonly Values: readonly PipelineValue[] };
}

/** A literal or an expression; strings may also be CloudFormation tokens resolved at deployment. */
export type PipelineValue = string | number | boolean | GetExpression | JoinExpression;

export type ParameterType = 'String' | 'Integer' | 'Float' | 'Boolean';

export interface PipelineParameter {
  readonly Name: string;
  readonly Type: ParameterType;
  readonly DefaultValue: string | number | boolean;
}

export function parameter(name: string): GetExpression {
  return { Get: `Parameters.${name}` };
}

export function executionVariable(
  name: 'PipelineExecutionId' | 'PipelineName' | 'StartDateTime',
): GetExpression {
  return { Get: `Execution.${name}` };
}

/** A property of an earlier step, e.g. `stepProperty('Train', 'ModelArtifacts.S3ModelArtifacts')`. */
export function stepProperty(stepName: string, path: string): GetExpression {
  return { Get: `Steps.${stepName}.${path}` };
}

/** One of a Lambda step's declared outputs. */
export function lambdaOutput(stepName: string, outputName: string): GetExpression {
  return stepProperty(stepName, `OutputParameters['${outputName}']`);
}

export function join(on: string, values: readonly PipelineValue[]): JoinExpression {
  return { 'Std:Join': { On: on, Values: values } };
}

/** A number-typed value as a string (hyperparameters and metadata are strings): a join on ''. */
export function asString(value: PipelineValue): PipelineValue {
  return typeof value === 'object' ? join('', [value]) : String(value);
}
