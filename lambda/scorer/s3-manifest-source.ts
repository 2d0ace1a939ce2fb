/** The current model's manifest from the data lake (`models/current.json`), re-read at most once a minute. */
import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';

import { getJsonOrNull } from './s3-objects';
import { FEATURE_DIMENSION } from '../../core/collection/build-record';
import { CURRENT_MODEL_MANIFEST_KEY, ModelManifest } from '../../core/scoring/model-manifest';
import { ModelManifestSource } from '../../core/scoring/score-build';
import '../shared/zod-messages';

const nonEmpty = z.string().check(z.minLength(1));
const count = z.int().check(z.nonnegative());
const featureValues = z.array(z.number()).check(z.length(FEATURE_DIMENSION));

const manifestSchema = z.object({
  modelVersion: nonEmpty,
  featureSchemaVersion: z.int(),
  inputVersion: z.optional(z.int()),
  kind: z.enum(['embedded', 'endpoint']),
  artifactKey: z.optional(nonEmpty),
  endpointName: z.optional(nonEmpty),
  threshold: z.number(),
  scoreMean: z.number(),
  scoreStd: z.number(),
  trainedAt: z.string(),
  trainingRows: count,
  minBuildsPerProject: count,
  baselines: z.record(
    z.string(),
    z.object({
      projectName: z.string(),
      count,
      median: featureValues,
      mad: featureValues,
    }),
  ),
});

export interface S3ManifestSourceOptions {
  /**
   * How long a read manifest (or its absence) is reused by this container.
   * @default 60_000
   */
  readonly cacheMillis?: number;
  readonly now?: () => number;
}

export class S3ManifestSource implements ModelManifestSource {
  private cached: { readonly at: number; readonly manifest: ModelManifest | null } | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly options: S3ManifestSourceOptions = {},
  ) {}

  async current(): Promise<ModelManifest | null> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.options.cacheMillis ?? 60_000))
      return this.cached.manifest;
    const raw = await getJsonOrNull(this.s3, this.bucket, CURRENT_MODEL_MANIFEST_KEY);
    const manifest =
      raw === null ? null : parseManifest(raw, `s3://${this.bucket}/${CURRENT_MODEL_MANIFEST_KEY}`);
    this.cached = { at: now, manifest };
    return manifest;
  }
}

export function parseManifest(raw: unknown, source: string): ModelManifest {
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`model manifest ${source} is invalid: ${problems.join('; ')}`);
  }
  // featureSchemaVersion is checked against the code's version by chooseScorer, not rejected here.
  return result.data as ModelManifest;
}
