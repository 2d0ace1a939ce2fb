/**
 * Scores with the SageMaker built-in Random Cut Forest endpoint: one CSV record in, `{"scores":[{"score":n}]}`
 * out (`Accept: application/json`).
 */
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import * as z from 'zod/mini';

import { ModelManifest } from '../../core/scoring/model-manifest';
import { ModelScore, ModelScorer } from '../../core/scoring/score-build';
import { MalformedScoreResponseError, ModelUnavailableError } from '../../core/scoring/scoring-errors';

// z.number() rejects NaN and ±Infinity.
const responseSchema = z.object({ scores: z.array(z.object({ score: z.number() })) });

export class EndpointScorer implements ModelScorer {
  /** @param endpointName the endpoint this function may invoke (its IAM policy is scoped to it). */
  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly endpointName: string,
  ) {}

  async score(manifest: ModelManifest, input: readonly number[]): Promise<ModelScore> {
    if (manifest.endpointName && manifest.endpointName !== this.endpointName) {
      throw new ModelUnavailableError(
        `model ${manifest.modelVersion} is served by endpoint ${manifest.endpointName}, but this scorer is configured for ${this.endpointName}`,
      );
    }
    let body: Uint8Array | undefined;
    try {
      const response = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.endpointName,
          ContentType: 'text/csv',
          Accept: 'application/json',
          Body: new TextEncoder().encode(toCsvLine(input)),
        }),
      );
      body = response.Body;
    } catch (error) {
      const err = error as Error;
      throw new ModelUnavailableError(
        `InvokeEndpoint ${this.endpointName} failed: ${err.name}: ${err.message}`,
        {
          cause: error,
        },
      );
    }
    const [score] = parseScores(body ? new TextDecoder().decode(body) : '', 1, this.endpointName);
    return { score: score! };
  }
}

/** Parses an RCF JSON answer; exactly one finite score per record sent, or a MalformedScoreResponseError. */
export function parseScores(text: string, expected: number, endpointName: string): number[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MalformedScoreResponseError(
      `endpoint ${endpointName} answered with non-JSON: ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  const result = responseSchema.safeParse(json);
  if (!result.success) {
    throw new MalformedScoreResponseError(
      `endpoint ${endpointName} answered without {"scores":[{"score":number}]}: ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  const scores = result.data.scores.map((entry) => entry.score);
  if (scores.length !== expected) {
    throw new MalformedScoreResponseError(
      `endpoint ${endpointName} returned ${scores.length} scores for ${expected} records`,
    );
  }
  return scores;
}

function toCsvLine(values: readonly number[]): string {
  return values.map((value) => String(Math.round(value * 1e6) / 1e6)).join(',');
}
