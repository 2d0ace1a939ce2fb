/** Pipemend's public constructs: the stack, its configuration, and what users add to their own pipelines. */
export { PipemendStack } from './pipemend-stack';
export type { PipemendStackProps } from './pipemend-stack';
export {
  PipemendConfigError,
  parsePipemendConfig,
  pipemendConfigSchema,
  REMEDIATION_MODES,
  SCORER_KINDS,
} from './config';
export type { PipemendConfig, RemediationMode, ScorerKind } from './config';
export { BUILD_ID_VARIABLE, BuildScoringAction } from './build-scoring-action';
export type { BuildScoringActionProps } from './build-scoring-action';
export { BuildScoringGate, PIPELINE_EXECUTION_ID_VARIABLE } from './stage-condition-gate';
export type { BuildScoringGateProps } from './stage-condition-gate';
