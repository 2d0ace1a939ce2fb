/**
 * Scores with Pipemend's own Random Cut Forest, loaded from the data lake (`manifest.artifactKey`) once
 * per container and model version: no endpoint to pay for, and attribution explains every score.
 */
import { S3Client } from '@aws-sdk/client-s3';

import { getJsonOrNull } from './s3-objects';
import { FEATURE_DIMENSION } from '../../core/collection/build-record';
import { ModelManifest } from '../../core/scoring/model-manifest';
import { ModelScore, ModelScorer } from '../../core/scoring/score-build';
import { ModelUnavailableError } from '../../core/scoring/scoring-errors';
import { RandomCutForest, SerializedForest } from '../../sagemaker/rcf';

export class EmbeddedScorer implements ModelScorer {
  private loaded: { readonly modelVersion: string; readonly forest: RandomCutForest } | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async score(manifest: ModelManifest, input: readonly number[]): Promise<ModelScore> {
    const forest = await this.forest(manifest);
    return { score: forest.score(input), attribution: forest.attribution(input) };
  }

  private async forest(manifest: ModelManifest): Promise<RandomCutForest> {
    if (this.loaded?.modelVersion === manifest.modelVersion) return this.loaded.forest;
    const key = manifest.artifactKey;
    if (!key) {
      throw new ModelUnavailableError(
        `embedded model ${manifest.modelVersion} has no artifactKey in its manifest`,
      );
    }
    let forest: RandomCutForest;
    try {
      const json = await getJsonOrNull(this.s3, this.bucket, key);
      if (json === null) throw new Error('the object does not exist');
      forest = RandomCutForest.fromJSON(json as SerializedForest);
    } catch (error) {
      throw new ModelUnavailableError(
        `cannot load embedded model ${manifest.modelVersion} from s3://${this.bucket}/${key}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (forest.dimensions !== FEATURE_DIMENSION) {
      throw new ModelUnavailableError(
        `embedded model ${manifest.modelVersion} has ${forest.dimensions} dimensions, the features have ${FEATURE_DIMENSION}`,
      );
    }
    this.loaded = { modelVersion: manifest.modelVersion, forest };
    return forest;
  }
}
