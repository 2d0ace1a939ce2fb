import {
  embeddedModelVersion,
  endpointResourceName,
  modelVersionOfArtifact,
  modelVersionOfResource,
  pipelineModelVersion,
} from '../../../sagemaker/training/model-version';

test('a pipeline execution id becomes a version usable in SageMaker resource names', () => {
  expect(pipelineModelVersion('Ab12cd34ef56')).toBe('sm-ab12cd34ef56');
  expect(endpointResourceName('sm-ab12cd34ef56')).toBe('pipemend-sm-ab12cd34ef56');
});

test('an embedded version is the training time', () => {
  expect(embeddedModelVersion(new Date('2026-11-21T20:00:00.123Z'))).toBe('2026-11-21T20-00-00Z');
});

test('the served endpoint config and the artifact location lead back to the version', () => {
  expect(modelVersionOfResource('pipemend-sm-abc')).toBe('sm-abc');
  expect(modelVersionOfResource('someone-elses-config')).toBeUndefined();
  expect(modelVersionOfArtifact('s3://lake/training/sm-abc/model/job/output/model.tar.gz')).toBe('sm-abc');
  expect(modelVersionOfArtifact('s3://lake/elsewhere/model.tar.gz')).toBeUndefined();
});

test('refuses a version that cannot name a SageMaker resource', () => {
  expect(() => endpointResourceName('2026-11-21T20:00')).toThrow(
    "model version '2026-11-21T20:00' cannot name a SageMaker endpoint config (pipemend-2026-11-21T20:00)",
  );
});
