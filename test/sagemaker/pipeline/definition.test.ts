import {
  buildTrainingPipelineDefinition,
  JobStep,
  LambdaStep,
  PipelineDefinition,
  TrainingPipelineDefinitionProps,
} from '../../../sagemaker/pipeline/definition';

const props: TrainingPipelineDefinitionProps = {
  dataLakeBucketName: 'lake',
  dataLakeKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/k',
  executionRoleArn: 'arn:aws:iam::111122223333:role/sm',
  rcfImageUri: '438346466558.dkr.ecr.eu-west-1.amazonaws.com/randomcutforest:1',
  windowFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:window',
  evaluateFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:evaluate',
  modelPackageGroupName: 'pipemend-rcf',
  inferenceInstanceTypes: ['ml.t2.medium'],
  defaults: {
    windowDays: 90,
    evaluationDays: 7,
    minTrainingRows: 500,
    minBuildsPerProject: 20,
    numTrees: 100,
    numSamplesPerTree: 256,
    trainingInstanceType: 'ml.m5.large',
    transformInstanceType: 'ml.m5.large',
    modelApprovalStatus: 'PendingManualApproval',
    noWorseTolerance: 0.02,
  },
};

const definition: PipelineDefinition = buildTrainingPipelineDefinition(props);
const step = <T>(name: string): T => {
  const all = definition.Steps.flatMap((s) => (s.Type === 'Condition' ? [s, ...s.Arguments.IfSteps] : [s]));
  return all.find((s) => s.Name === name) as T;
};

/** Names of the steps whose properties a step's arguments reference: its data dependencies. */
function dependencies(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [...new Set([...text.matchAll(/"Steps\.([A-Za-z]+)\./g)].map((m) => m[1]!))];
}

test('is a 2020-12-01 definition with typed parameters and their defaults', () => {
  expect(definition.Version).toBe('2020-12-01');
  expect(definition.Parameters).toEqual([
    { Name: 'WindowDays', Type: 'Integer', DefaultValue: 90 },
    { Name: 'EvaluationDays', Type: 'Integer', DefaultValue: 7 },
    { Name: 'MinTrainingRows', Type: 'Integer', DefaultValue: 500 },
    { Name: 'MinBuildsPerProject', Type: 'Integer', DefaultValue: 20 },
    { Name: 'NumTrees', Type: 'Integer', DefaultValue: 100 },
    { Name: 'NumSamplesPerTree', Type: 'Integer', DefaultValue: 256 },
    { Name: 'TrainingInstanceType', Type: 'String', DefaultValue: 'ml.m5.large' },
    { Name: 'TransformInstanceType', Type: 'String', DefaultValue: 'ml.m5.large' },
    { Name: 'ModelApprovalStatus', Type: 'String', DefaultValue: 'PendingManualApproval' },
    { Name: 'NoWorseTolerance', Type: 'Float', DefaultValue: 0.02 },
  ]);
});

test('runs window, training, model, transform, evaluation and the condition in that order', () => {
  expect(definition.Steps.map((s) => `${s.Name}:${s.Type}`)).toEqual([
    'AssembleWindow:Lambda',
    'TrainModel:Training',
    'CreateCandidateModel:Model',
    'ScoreRecentBuilds:Transform',
    'EvaluateModel:Lambda',
    'CheckNoWorseThanApproved:Condition',
  ]);
});

test('each step depends on exactly the steps before it whose outputs it uses', () => {
  const byName = Object.fromEntries(
    definition.Steps.map((s) => [s.Name, dependencies('Arguments' in s ? s.Arguments : s)]),
  );
  expect(byName).toEqual({
    AssembleWindow: [],
    TrainModel: ['AssembleWindow'],
    CreateCandidateModel: ['TrainModel'],
    ScoreRecentBuilds: ['CreateCandidateModel', 'AssembleWindow'],
    EvaluateModel: ['AssembleWindow', 'ScoreRecentBuilds'],
    CheckNoWorseThanApproved: ['EvaluateModel', 'AssembleWindow', 'TrainModel'],
  });
});

test('the window step is a Lambda step with parameter inputs and declared outputs', () => {
  expect(step<LambdaStep>('AssembleWindow')).toEqual({
    Name: 'AssembleWindow',
    Type: 'Lambda',
    FunctionArn: props.windowFunctionArn,
    Arguments: {
      executionId: { Get: 'Execution.PipelineExecutionId' },
      windowDays: { Get: 'Parameters.WindowDays' },
      evaluationDays: { Get: 'Parameters.EvaluationDays' },
      minTrainingRows: { Get: 'Parameters.MinTrainingRows' },
      minBuildsPerProject: { Get: 'Parameters.MinBuildsPerProject' },
    },
    OutputParameters: [
      { OutputName: 'modelVersion', OutputType: 'String' },
      { OutputName: 'trainS3Uri', OutputType: 'String' },
      { OutputName: 'evaluationS3Uri', OutputType: 'String' },
      { OutputName: 'trainingRows', OutputType: 'Integer' },
      { OutputName: 'evaluationRows', OutputType: 'Integer' },
      { OutputName: 'projects', OutputType: 'Integer' },
    ],
  });
});

test('trains the built-in RCF image on sharded label-free CSV with parameterised hyperparameters', () => {
  const train = step<JobStep>('TrainModel').Arguments;
  expect(train.AlgorithmSpecification).toEqual({
    TrainingImage: props.rcfImageUri,
    TrainingInputMode: 'File',
  });
  expect(train.HyperParameters).toEqual({
    feature_dim: '12',
    num_trees: { 'Std:Join': { On: '', Values: [{ Get: 'Parameters.NumTrees' }] } },
    num_samples_per_tree: { 'Std:Join': { On: '', Values: [{ Get: 'Parameters.NumSamplesPerTree' }] } },
  });
  expect(train.InputDataConfig).toEqual([
    {
      ChannelName: 'train',
      ContentType: 'text/csv;label_size=0',
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: { Get: "Steps.AssembleWindow.OutputParameters['trainS3Uri']" },
          S3DataDistributionType: 'ShardedByS3Key',
        },
      },
    },
  ]);
  expect(train.OutputDataConfig).toEqual({
    S3OutputPath: {
      'Std:Join': {
        On: '',
        Values: [
          's3://',
          'lake',
          '/training/',
          { Get: "Steps.AssembleWindow.OutputParameters['modelVersion']" },
          '/model',
        ],
      },
    },
    KmsKeyId: props.dataLakeKeyArn,
  });
  expect(train.ResourceConfig).toEqual({
    InstanceCount: 1,
    InstanceType: { Get: 'Parameters.TrainingInstanceType' },
    VolumeSizeInGB: 10,
  });
  expect(train.RoleArn).toBe(props.executionRoleArn);
});

test('scores the recent builds with the trained model itself, one JSON line per build', () => {
  expect(step<JobStep>('CreateCandidateModel').Arguments).toEqual({
    ExecutionRoleArn: props.executionRoleArn,
    PrimaryContainer: {
      Image: props.rcfImageUri,
      ModelDataUrl: { Get: 'Steps.TrainModel.ModelArtifacts.S3ModelArtifacts' },
    },
  });
  const transform = step<JobStep>('ScoreRecentBuilds').Arguments;
  expect(transform.ModelName).toEqual({ Get: 'Steps.CreateCandidateModel.ModelName' });
  expect(transform.TransformInput).toMatchObject({
    ContentType: 'text/csv',
    SplitType: 'Line',
    DataSource: {
      S3DataSource: { S3Uri: { Get: "Steps.AssembleWindow.OutputParameters['evaluationS3Uri']" } },
    },
  });
  expect(transform.TransformOutput).toMatchObject({ Accept: 'application/jsonlines', AssembleWith: 'Line' });
});

test('the evaluation step reads the transform output and the approved model group', () => {
  expect(step<LambdaStep>('EvaluateModel').Arguments).toEqual({
    modelVersion: { Get: "Steps.AssembleWindow.OutputParameters['modelVersion']" },
    trainingRows: { Get: "Steps.AssembleWindow.OutputParameters['trainingRows']" },
    scoresS3Uri: { Get: 'Steps.ScoreRecentBuilds.TransformOutput.S3OutputPath' },
    modelPackageGroupName: 'pipemend-rcf',
    noWorseTolerance: { Get: 'Parameters.NoWorseTolerance' },
  });
});

test('registers the model version only when the evaluation says it is no worse', () => {
  const condition = definition.Steps[5]!;
  expect(condition.Type).toBe('Condition');
  if (condition.Type !== 'Condition') return;
  expect(condition.Arguments.Conditions).toEqual([
    {
      Type: 'Equals',
      LeftValue: { Get: "Steps.EvaluateModel.OutputParameters['noWorse']" },
      RightValue: true,
    },
  ]);
  expect(condition.Arguments.IfSteps.map((s) => s.Name)).toEqual(['RegisterModelVersion']);
  expect(condition.Arguments.ElseSteps).toEqual([]);
});

test('the registered version carries its metrics, the approval parameter and the trained artifact', () => {
  const register = step<JobStep>('RegisterModelVersion').Arguments;
  expect(register.ModelPackageGroupName).toBe('pipemend-rcf');
  expect(register.ModelApprovalStatus).toEqual({ Get: 'Parameters.ModelApprovalStatus' });
  expect(register.InferenceSpecification).toMatchObject({
    Containers: [
      { Image: props.rcfImageUri, ModelDataUrl: { Get: 'Steps.TrainModel.ModelArtifacts.S3ModelArtifacts' } },
    ],
    SupportedContentTypes: ['text/csv', 'application/json'],
  });
  expect(register.ModelMetrics).toEqual({
    ModelQuality: {
      Statistics: {
        ContentType: 'application/json',
        S3Uri: { Get: "Steps.EvaluateModel.OutputParameters['evaluationS3Uri']" },
      },
    },
  });
  expect(register.ModelPackageDescription).toEqual({
    'Std:Join': {
      On: ' ',
      Values: [
        'Pipemend RCF',
        { Get: "Steps.AssembleWindow.OutputParameters['modelVersion']" },
        'trained on',
        {
          'Std:Join': { On: '', Values: [{ Get: "Steps.AssembleWindow.OutputParameters['trainingRows']" }] },
        },
        'builds;',
        { Get: "Steps.EvaluateModel.OutputParameters['reason']" },
      ],
    },
  });
});

test('rejects hyperparameter defaults outside the RCF ranges', () => {
  expect(() =>
    buildTrainingPipelineDefinition({ ...props, defaults: { ...props.defaults, numTrees: 10 } }),
  ).toThrow('numTrees must be an integer from 50 to 1000, got 10');
});

test('serialises to JSON without losing anything', () => {
  expect(JSON.parse(JSON.stringify(definition))).toEqual(definition);
});
