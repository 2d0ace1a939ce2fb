/**
 * The SageMaker Pipelines definition (version 2020-12-01) that retrains the endpoint model:
 *
 *   AssembleWindow (Lambda) → TrainModel (Training, built-in RCF) → CreateCandidateModel (Model)
 *   → ScoreRecentBuilds (Transform) → EvaluateModel (Lambda) → CheckNoWorseThanApproved (Condition)
 *   → RegisterModelVersion (RegisterModel, only if no worse)
 *
 * The evaluation scores the recent builds with the trained SageMaker model itself (a batch transform),
 * so the threshold and the precision/recall describe the model that will be deployed, not a stand-in.
 * Pure data: values may be CloudFormation tokens; the CDK construct serialises it with `toJsonString`.
 */
import {
  asString,
  executionVariable,
  GetExpression,
  join,
  lambdaOutput,
  parameter,
  PipelineParameter,
  PipelineValue,
  stepProperty,
} from './expressions';
import { FEATURE_DIMENSION } from '../../core/collection/build-record';

export const PIPELINE_DEFINITION_VERSION = '2020-12-01';

export const STEP_NAMES = {
  window: 'AssembleWindow',
  train: 'TrainModel',
  createModel: 'CreateCandidateModel',
  score: 'ScoreRecentBuilds',
  evaluate: 'EvaluateModel',
  check: 'CheckNoWorseThanApproved',
  register: 'RegisterModelVersion',
} as const;

export const PARAMETER_NAMES = {
  windowDays: 'WindowDays',
  evaluationDays: 'EvaluationDays',
  minTrainingRows: 'MinTrainingRows',
  minBuildsPerProject: 'MinBuildsPerProject',
  numTrees: 'NumTrees',
  numSamplesPerTree: 'NumSamplesPerTree',
  trainingInstanceType: 'TrainingInstanceType',
  transformInstanceType: 'TransformInstanceType',
  modelApprovalStatus: 'ModelApprovalStatus',
  noWorseTolerance: 'NoWorseTolerance',
} as const;

/** Outputs the window Lambda returns (its handler's contract). */
export const WINDOW_OUTPUTS = {
  modelVersion: 'String',
  trainS3Uri: 'String',
  evaluationS3Uri: 'String',
  trainingRows: 'Integer',
  evaluationRows: 'Integer',
  projects: 'Integer',
} as const;

/** Outputs the evaluation Lambda returns (its handler's contract). */
export const EVALUATION_OUTPUTS = {
  threshold: 'Float',
  scoreMean: 'Float',
  scoreStd: 'Float',
  precision: 'String',
  recall: 'String',
  labelledBuilds: 'Integer',
  noWorse: 'Boolean',
  reason: 'String',
  evaluationS3Uri: 'String',
  manifestKey: 'String',
} as const;

export type ModelApprovalStatus = 'Approved' | 'PendingManualApproval';

/** Defaults of the pipeline parameters; every one can be overridden per execution. */
export interface TrainingParameterDefaults {
  readonly windowDays: number;
  readonly evaluationDays: number;
  readonly minTrainingRows: number;
  readonly minBuildsPerProject: number;
  readonly numTrees: number;
  readonly numSamplesPerTree: number;
  readonly trainingInstanceType: string;
  readonly transformInstanceType: string;
  readonly modelApprovalStatus: ModelApprovalStatus;
  /** How much lower (in F1) than the approved model's a candidate may be and still count as no worse. */
  readonly noWorseTolerance: number;
}

export interface TrainingPipelineDefinitionProps {
  readonly dataLakeBucketName: string;
  /** KMS key that encrypts training output, transform output and model artifacts. */
  readonly dataLakeKeyArn: string;
  /** Role SageMaker assumes for the training job, the model and the transform job. */
  readonly executionRoleArn: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/randomcutforest:1`. */
  readonly rcfImageUri: string;
  readonly windowFunctionArn: string;
  readonly evaluateFunctionArn: string;
  readonly modelPackageGroupName: string;
  /** Instance types the registered model declares it supports for real-time inference. */
  readonly inferenceInstanceTypes: readonly string[];
  readonly defaults: TrainingParameterDefaults;
}

type OutputType = 'String' | 'Integer' | 'Float' | 'Boolean';

export interface LambdaStep {
  readonly Name: string;
  readonly Type: 'Lambda';
  readonly FunctionArn: string;
  readonly Arguments: Record<string, PipelineValue>;
  readonly OutputParameters: { readonly OutputName: string; readonly OutputType: OutputType }[];
}

export interface JobStep {
  readonly Name: string;
  readonly Type: 'Training' | 'Model' | 'Transform' | 'RegisterModel';
  readonly Arguments: Record<string, unknown>;
}

export interface ConditionStep {
  readonly Name: string;
  readonly Type: 'Condition';
  readonly Arguments: {
    readonly Conditions: {
      readonly Type: 'Equals';
      readonly LeftValue: PipelineValue;
      readonly RightValue: PipelineValue;
    }[];
    readonly IfSteps: PipelineStep[];
    readonly ElseSteps: PipelineStep[];
  };
}

export type PipelineStep = LambdaStep | JobStep | ConditionStep;

export interface PipelineDefinition {
  readonly Version: typeof PIPELINE_DEFINITION_VERSION;
  readonly Metadata: Record<string, never>;
  readonly Parameters: PipelineParameter[];
  readonly Steps: PipelineStep[];
}

const windowOut = (name: keyof typeof WINDOW_OUTPUTS): GetExpression => lambdaOutput(STEP_NAMES.window, name);
const evaluationOut = (name: keyof typeof EVALUATION_OUTPUTS): GetExpression =>
  lambdaOutput(STEP_NAMES.evaluate, name);

export function buildTrainingPipelineDefinition(props: TrainingPipelineDefinitionProps): PipelineDefinition {
  validateDefaults(props.defaults);
  const { defaults } = props;
  const p = PARAMETER_NAMES;
  const parameters: PipelineParameter[] = [
    { Name: p.windowDays, Type: 'Integer', DefaultValue: defaults.windowDays },
    { Name: p.evaluationDays, Type: 'Integer', DefaultValue: defaults.evaluationDays },
    { Name: p.minTrainingRows, Type: 'Integer', DefaultValue: defaults.minTrainingRows },
    { Name: p.minBuildsPerProject, Type: 'Integer', DefaultValue: defaults.minBuildsPerProject },
    { Name: p.numTrees, Type: 'Integer', DefaultValue: defaults.numTrees },
    { Name: p.numSamplesPerTree, Type: 'Integer', DefaultValue: defaults.numSamplesPerTree },
    { Name: p.trainingInstanceType, Type: 'String', DefaultValue: defaults.trainingInstanceType },
    { Name: p.transformInstanceType, Type: 'String', DefaultValue: defaults.transformInstanceType },
    { Name: p.modelApprovalStatus, Type: 'String', DefaultValue: defaults.modelApprovalStatus },
    { Name: p.noWorseTolerance, Type: 'Float', DefaultValue: defaults.noWorseTolerance },
  ];
  const s3Under = (suffix: string): PipelineValue =>
    join('', ['s3://', props.dataLakeBucketName, '/training/', windowOut('modelVersion'), suffix]);

  const window: LambdaStep = {
    Name: STEP_NAMES.window,
    Type: 'Lambda',
    FunctionArn: props.windowFunctionArn,
    Arguments: {
      executionId: executionVariable('PipelineExecutionId'),
      windowDays: parameter(p.windowDays),
      evaluationDays: parameter(p.evaluationDays),
      minTrainingRows: parameter(p.minTrainingRows),
      minBuildsPerProject: parameter(p.minBuildsPerProject),
    },
    OutputParameters: outputs(WINDOW_OUTPUTS),
  };

  const train: JobStep = {
    Name: STEP_NAMES.train,
    Type: 'Training',
    Arguments: {
      AlgorithmSpecification: { TrainingImage: props.rcfImageUri, TrainingInputMode: 'File' },
      HyperParameters: {
        feature_dim: String(FEATURE_DIMENSION),
        num_trees: asString(parameter(p.numTrees)),
        num_samples_per_tree: asString(parameter(p.numSamplesPerTree)),
      },
      InputDataConfig: [
        {
          ChannelName: 'train',
          ContentType: 'text/csv;label_size=0',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: windowOut('trainS3Uri'),
              S3DataDistributionType: 'ShardedByS3Key',
            },
          },
        },
      ],
      OutputDataConfig: { S3OutputPath: s3Under('/model'), KmsKeyId: props.dataLakeKeyArn },
      ResourceConfig: {
        InstanceCount: 1,
        InstanceType: parameter(p.trainingInstanceType),
        VolumeSizeInGB: 10,
      },
      RoleArn: props.executionRoleArn,
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    },
  };

  const modelData = stepProperty(STEP_NAMES.train, 'ModelArtifacts.S3ModelArtifacts');
  const createModel: JobStep = {
    Name: STEP_NAMES.createModel,
    Type: 'Model',
    Arguments: {
      ExecutionRoleArn: props.executionRoleArn,
      PrimaryContainer: { Image: props.rcfImageUri, ModelDataUrl: modelData },
    },
  };

  const score: JobStep = {
    Name: STEP_NAMES.score,
    Type: 'Transform',
    Arguments: {
      ModelName: stepProperty(STEP_NAMES.createModel, 'ModelName'),
      BatchStrategy: 'MultiRecord',
      MaxPayloadInMB: 6,
      TransformInput: {
        ContentType: 'text/csv',
        SplitType: 'Line',
        CompressionType: 'None',
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: windowOut('evaluationS3Uri') } },
      },
      // One JSON line per input line, in input order: the evaluation joins scores to builds by position.
      TransformOutput: {
        S3OutputPath: s3Under('/scores'),
        Accept: 'application/jsonlines',
        AssembleWith: 'Line',
        KmsKeyId: props.dataLakeKeyArn,
      },
      TransformResources: { InstanceCount: 1, InstanceType: parameter(p.transformInstanceType) },
    },
  };

  const evaluate: LambdaStep = {
    Name: STEP_NAMES.evaluate,
    Type: 'Lambda',
    FunctionArn: props.evaluateFunctionArn,
    Arguments: {
      modelVersion: windowOut('modelVersion'),
      trainingRows: windowOut('trainingRows'),
      scoresS3Uri: stepProperty(STEP_NAMES.score, 'TransformOutput.S3OutputPath'),
      modelPackageGroupName: props.modelPackageGroupName,
      noWorseTolerance: parameter(p.noWorseTolerance),
    },
    OutputParameters: outputs(EVALUATION_OUTPUTS),
  };

  const register: JobStep = {
    Name: STEP_NAMES.register,
    Type: 'RegisterModel',
    Arguments: {
      ModelPackageGroupName: props.modelPackageGroupName,
      ModelPackageDescription: join(' ', [
        'Pipemend RCF',
        windowOut('modelVersion'),
        'trained on',
        asString(windowOut('trainingRows')),
        'builds;',
        evaluationOut('reason'),
      ]),
      ModelApprovalStatus: parameter(p.modelApprovalStatus),
      InferenceSpecification: {
        Containers: [{ Image: props.rcfImageUri, ModelDataUrl: modelData }],
        SupportedContentTypes: ['text/csv', 'application/json'],
        SupportedResponseMIMETypes: ['application/json', 'application/jsonlines'],
        SupportedRealtimeInferenceInstanceTypes: [...props.inferenceInstanceTypes],
        SupportedTransformInstanceTypes: [defaults.transformInstanceType],
      },
      // The evaluation report (threshold, score distribution, precision/recall, comparison) as model quality:
      // the deployer and the next evaluation read versions back from it.
      ModelMetrics: {
        ModelQuality: {
          Statistics: { ContentType: 'application/json', S3Uri: evaluationOut('evaluationS3Uri') },
        },
      },
    },
  };

  const check: ConditionStep = {
    Name: STEP_NAMES.check,
    Type: 'Condition',
    Arguments: {
      Conditions: [{ Type: 'Equals', LeftValue: evaluationOut('noWorse'), RightValue: true }],
      IfSteps: [register],
      // A worse candidate is simply not registered; the Evaluate step's `reason` output says why.
      ElseSteps: [],
    },
  };

  return {
    Version: PIPELINE_DEFINITION_VERSION,
    Metadata: {},
    Parameters: parameters,
    Steps: [window, train, createModel, score, evaluate, check],
  };
}

function outputs(spec: Record<string, OutputType>): LambdaStep['OutputParameters'] {
  return Object.entries(spec).map(([OutputName, OutputType]) => ({ OutputName, OutputType }));
}

function validateDefaults(defaults: TrainingParameterDefaults): void {
  const integerIn = (name: keyof TrainingParameterDefaults, min: number, max: number): void => {
    const value = defaults[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
  };
  integerIn('windowDays', 1, 365);
  integerIn('evaluationDays', 1, defaults.windowDays);
  integerIn('minTrainingRows', 1, 10_000_000);
  integerIn('minBuildsPerProject', 1, 100_000);
  // SageMaker RCF's documented hyperparameter ranges.
  integerIn('numTrees', 50, 1000);
  integerIn('numSamplesPerTree', 1, 2048);
  if (!(defaults.noWorseTolerance >= 0 && defaults.noWorseTolerance <= 1)) {
    throw new Error(`noWorseTolerance must be between 0 and 1, got ${defaults.noWorseTolerance}`);
  }
}
