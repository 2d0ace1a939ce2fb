/**
 * Names tying a model version to the SageMaker resources that serve it, so that what the endpoint
 * actually runs (after a deployment or a rollback) always maps back to the version's manifest.
 */

/**
 * Models and endpoint configs are named `<endpoint name>--<model version>`: each installation's own
 * (the endpoint name derives from the stack), and '--' keeps one endpoint's names out of another's
 * (`a--*` never matches `a-b--…`; endpoint names may not contain '--').
 */
const SEPARATOR = '--';
/** SageMaker model and endpoint-config names: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`. */
const MAX_NAME_LENGTH = 63;
/** The longest model version: `sm-` and a 12-character execution id, or `2026-11-21T20-00-00Z`. */
export const MAX_MODEL_VERSION_LENGTH = 20;
/** So that every version's resource name fits SageMaker's 63 characters. */
export const MAX_ENDPOINT_NAME_LENGTH = MAX_NAME_LENGTH - SEPARATOR.length - MAX_MODEL_VERSION_LENGTH;

/** The model version of a pipeline execution (its id is unique and stable across step retries). */
export function pipelineModelVersion(executionId: string): string {
  const id = executionId.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (id === '') throw new Error(`pipeline execution id '${executionId}' has no usable characters`);
  return `sm-${id}`;
}

/** The model version of an embedded training run at `now`, e.g. `2026-11-21T20-00-00Z`. */
export function embeddedModelVersion(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

/** The SageMaker model and endpoint-config name of a model version. */
export function endpointResourceName(endpointName: string, modelVersion: string): string {
  const name = `${endpointName}${SEPARATOR}${modelVersion}`;
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new Error(`model version '${modelVersion}' cannot name a SageMaker endpoint config (${name})`);
  }
  return name;
}

/** The model version an endpoint config serves, or undefined for a config Pipemend did not create. */
export function modelVersionOfResource(endpointName: string, endpointConfigName: string): string | undefined {
  const prefix = `${endpointName}${SEPARATOR}`;
  return endpointConfigName.startsWith(prefix) ? endpointConfigName.slice(prefix.length) : undefined;
}

/** The resource-name pattern of an endpoint's models and configs, for IAM. */
export function endpointResourcePattern(endpointName: string): string {
  return `${endpointName}${SEPARATOR}*`;
}

/** Where a model version's training artifacts live in the data lake. */
export function trainingKeys(
  modelVersion: string,
): Record<'trainCsv' | 'evaluationCsv' | 'evaluationIndex' | 'window' | 'evaluation', string> {
  const root = `training/${modelVersion}`;
  return {
    trainCsv: `${root}/train/train.csv`,
    evaluationCsv: `${root}/evaluation/evaluation.csv`,
    evaluationIndex: `${root}/evaluation-index.json`,
    window: `${root}/window.json`,
    evaluation: `${root}/evaluation.json`,
  };
}

/** The model version a training artifact belongs to (`s3://<bucket>/training/<version>/model/...`). */
export function modelVersionOfArtifact(modelDataUrl: string): string | undefined {
  return /^s3:\/\/[^/]+\/training\/([^/]+)\/model\//.exec(modelDataUrl)?.[1];
}
