/**
 * The decision record of a scored build: what the scorer saw, what it concluded and why. Published as the
 * `Pipemend Build Verdict` event on Pipemend's bus; remediation and suggestions start from it.
 */
import { BuildRecord, BuildStatus, FeatureName, PipelineContext } from '../collection/build-record';

export const PIPEMEND_EVENT_SOURCE = 'pipemend';
export const VERDICT_DETAIL_TYPE = 'Pipemend Build Verdict';

/** `baseline`: the median/MAD cold-start scorer, used until a model covers the project. */
export type ScorerUsed = 'endpoint' | 'embedded' | 'baseline';

export interface FeatureContribution {
  readonly feature: FeatureName;
  readonly value: number;
  /** The project's typical value (baseline median), where known. */
  readonly typical?: number;
  /** Share of the score this feature accounts for, in [0, 1]; contributions sum to at most 1. */
  readonly share: number;
  /** `high` or `low` relative to typical. */
  readonly direction: 'high' | 'low';
}

/**
 * Why a successful build whose score exceeds the threshold is still NORMAL: it was faster or leaner than
 * usual (its leading deviation is low), it exceeds the threshold by less than SUCCESS_MARGIN, or the
 * project's previous build does not corroborate it (the two builds' score-to-threshold ratios multiply
 * to 1 or less: one odd build that worked).
 */
export type VerdictDismissal =
  'success-lower-than-usual' | 'success-within-margin' | 'success-not-corroborated';

export interface BuildVerdict {
  readonly schemaVersion: 1;
  readonly buildArn: string;
  readonly buildId: string;
  readonly projectName: string;
  readonly pipeline?: PipelineContext;
  readonly status: BuildStatus;
  readonly failedPhase?: string;
  readonly sourceVersion?: string;
  readonly features: Record<FeatureName, number>;
  readonly missingFeatures: FeatureName[];
  readonly score: number;
  readonly threshold: number;
  readonly anomalous: boolean;
  readonly scorer: ScorerUsed;
  readonly modelVersion: string | null;
  /** Top contributors first. */
  readonly explanation: FeatureContribution[];
  readonly verdict: 'NORMAL' | 'ANOMALOUS';
  /** Set when the score exceeds the threshold and the build is NORMAL all the same. */
  readonly dismissed?: VerdictDismissal;
  readonly decidedAt: string;
  /** The build record the verdict was made on (logs location, tests, initiator). */
  readonly build: BuildRecord;
}
