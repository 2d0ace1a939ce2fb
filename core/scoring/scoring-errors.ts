/**
 * Typed failures of post-build scoring. Their `name` is what a CodePipeline failure message and a Step
 * Functions `Catch` route on, so each names one cause.
 */

/** The model (endpoint or embedded forest) could not produce a score: unreachable, throttled, missing. */
export class ModelUnavailableError extends Error {
  override readonly name = 'ModelUnavailableError';
}

/** The model answered, but not with one finite score per record sent. */
export class MalformedScoreResponseError extends Error {
  override readonly name = 'MalformedScoreResponseError';
}

/** The build to score has no record (yet) in the data lake. */
export class BuildRecordNotFoundError extends Error {
  override readonly name = 'BuildRecordNotFoundError';
}

/** The invocation itself is unusable: a malformed CodePipeline job or EventBridge event. */
export class InvalidScoringRequestError extends Error {
  override readonly name = 'InvalidScoringRequestError';
}
