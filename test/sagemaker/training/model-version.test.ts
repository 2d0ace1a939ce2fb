import {
  embeddedModelVersion,
  endpointResourceName,
  MAX_ENDPOINT_NAME_LENGTH,
  MAX_MODEL_VERSION_LENGTH,
  modelVersionOfArtifact,
  modelVersionOfResource,
  pipelineModelVersion,
} from '../../../sagemaker/training/model-version';

test('a pipeline execution id becomes a version usable in SageMaker resource names', () => {
  expect(pipelineModelVersion('Ab12cd34ef56')).toBe('sm-ab12cd34ef56');
  expect(endpointResourceName('pipemend-rcf', 'sm-ab12cd34ef56')).toBe('pipemend-rcf--sm-ab12cd34ef56');
});

test('an embedded version is the training time', () => {
  expect(embeddedModelVersion(new Date('2026-11-21T20:00:00.123Z'))).toBe('2026-11-21T20-00-00Z');
});

test('the served endpoint config and the artifact location lead back to the version', () => {
  expect(modelVersionOfResource('pipemend-rcf', 'pipemend-rcf--sm-abc')).toBe('sm-abc');
  expect(modelVersionOfResource('pipemend-rcf', 'someone-elses-config')).toBeUndefined();
  expect(modelVersionOfArtifact('s3://lake/training/sm-abc/model/job/output/model.tar.gz')).toBe('sm-abc');
  expect(modelVersionOfArtifact('s3://lake/elsewhere/model.tar.gz')).toBeUndefined();
});

test('refuses a version that cannot name a SageMaker resource', () => {
  expect(() => endpointResourceName('pipemend-rcf', '2026-11-21T20:00')).toThrow(
    "model version '2026-11-21T20:00' cannot name a SageMaker endpoint config (pipemend-rcf--2026-11-21T20:00)",
  );
});

test("another installation's configs are not this endpoint's", () => {
  expect(modelVersionOfResource('pipemend-rcf', 'pipemend-rcf-staging--sm-abc')).toBeUndefined();
});

test('the longest versions fit a SageMaker name with the longest endpoint name', () => {
  const endpoint = 'e'.repeat(MAX_ENDPOINT_NAME_LENGTH);
  expect(endpointResourceName(endpoint, embeddedModelVersion(new Date('2026-11-21T20:00:00Z')))).toHaveLength(
    63,
  );
  expect(pipelineModelVersion('abcdefabcdef').length).toBeLessThanOrEqual(MAX_MODEL_VERSION_LENGTH);
});
