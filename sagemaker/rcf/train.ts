import { ForestOptions, InvalidPointError, RandomCutForest } from './forest';
import { SagemakerThreshold, sagemakerThreshold } from './threshold';

export interface TrainedForest {
  readonly forest: RandomCutForest;
  /** In-sample scores: `scores[i]` is row `warmup + i` scored just before it was inserted. */
  readonly scores: number[];
  /** Rows inserted before the forest could score (its `outputAfter`, plus the shingle fill). */
  readonly warmup: number;
  readonly threshold: SagemakerThreshold;
}

/**
 * Trains a forest on rows (batch: each row inserted), returns it with the in-sample scores (scored
 * before insertion after a warm-up) and the SageMaker threshold (mean + 3 std of those scores).
 */
export function trainForest(
  rows: readonly number[][],
  options: Omit<ForestOptions, 'dimensions'>,
): TrainedForest {
  const first = rows[0];
  if (first === undefined) throw new RangeError('Cannot train a forest on zero rows');
  rows.forEach((row, index) => {
    if (row.length !== first.length) {
      throw new RangeError(`Training row ${index} has ${row.length} values, row 0 has ${first.length}`);
    }
  });
  const forest = new RandomCutForest({ ...options, dimensions: first.length });
  const warmup = Math.min(rows.length, forest.pointsUntilReady);
  let scored: Float64Array;
  try {
    scored = forest.scoreAndUpdate(rows);
  } catch (error) {
    if (error instanceof InvalidPointError && error.index !== undefined) {
      throw new InvalidPointError(`Training row ${error.index}: ${error.problem}`);
    }
    throw error;
  }
  const scores = Array.from(scored.subarray(warmup));
  if (scores.length === 0) {
    throw new RangeError(
      `Training needs more than ${warmup} rows to score any (outputAfter ${forest.options.outputAfter}, shingleSize ${forest.options.shingleSize})`,
    );
  }
  return { forest, scores, warmup, threshold: sagemakerThreshold(scores) };
}
