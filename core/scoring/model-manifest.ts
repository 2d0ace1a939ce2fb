/**
 * The manifest of a trained model version: what the scorer needs to use it (where it is, the threshold
 * it was calibrated with, the per-project baselines its inputs are normalised with). Training writes it
 * to the data lake beside the model; the scorer reads `models/current.json`.
 */
import { ProjectBaseline } from './baseline';
import { FEATURE_SCHEMA_VERSION } from '../collection/build-record';

export const CURRENT_MODEL_MANIFEST_KEY = 'models/current.json';

/**
 * Version of how features become a model's input (`normalize` in baseline.ts). A model trained on
 * another version would see inputs it never learnt, so the scorer leaves it to the baseline scorer.
 * 2: falls of CPU and memory utilisation are no deviation; durations deviate on a log scale.
 */
export const MODEL_INPUT_VERSION = 2;

export interface ModelManifest {
  /** e.g. `2026-11-21T20-00-00Z` or the SageMaker model package version. */
  readonly modelVersion: string;
  readonly featureSchemaVersion: typeof FEATURE_SCHEMA_VERSION;
  /** MODEL_INPUT_VERSION the model was trained with; absent in manifests written before version 2. */
  readonly inputVersion?: number;
  /** `embedded`: Pipemend's own forest in S3 (`artifactKey`); `endpoint`: a SageMaker endpoint (`endpointName`). */
  readonly kind: 'embedded' | 'endpoint';
  readonly artifactKey?: string;
  readonly endpointName?: string;
  /** Raw-score threshold: 3 robust standard deviations above the median log score (evaluation.ts). */
  readonly threshold: number;
  readonly scoreMean: number;
  readonly scoreStd: number;
  readonly trainedAt: string;
  readonly trainingRows: number;
  /** Builds a project needs in the baseline before the model scores it (below: the baseline scorer decides). */
  readonly minBuildsPerProject: number;
  readonly baselines: Record<string, ProjectBaseline>;
}

export function modelArtifactKey(modelVersion: string): string {
  return `models/${modelVersion}/forest.json`;
}

export function modelManifestKey(modelVersion: string): string {
  return `models/${modelVersion}/manifest.json`;
}
