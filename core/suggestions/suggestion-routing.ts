/**
 * Which finished builds reach the suggester, and how. One module for the deployed EventBridge rules
 * (lib/fix-suggestions.ts) and the local replay (local/replay.ts), so the replay counts exactly the builds
 * the deployed stack suggests for.
 *
 * - A build outside CodePipeline is scored from its `CodeBuild Build State Change` event; its verdict
 *   reaches the suggester when its status is in `SUGGESTER_VERDICT_STATUSES`.
 * - A build CodePipeline started (initiator `codepipeline/<pipeline>`) is scored by the pipeline's
 *   BuildScoringAction, which runs only after the build succeeded: a failed pipeline build has no verdict,
 *   so the suggester takes its `CodeBuild Build State Change` event directly (`PIPELINE_FAILURE_STATUSES`).
 *
 * A build both failed and scored (a verdict and a state change) gets one suggestion: the suggester skips a
 * build whose suggestion is already stored.
 */
import { BuildStatus } from '../collection/build-record';

/** CodeBuild's initiator of builds that CodePipeline started: `codepipeline/<pipeline name>`. */
export const PIPELINE_INITIATOR_PREFIX = 'codepipeline/';

/** Verdict statuses the suggester handles: failures get a suggestion, successes become the diff baseline. */
export const SUGGESTER_VERDICT_STATUSES = ['FAILED', 'FAULT', 'TIMED_OUT', 'SUCCEEDED'] as const;

/** Statuses of pipeline-started builds whose state change goes straight to the suggester. */
export const PIPELINE_FAILURE_STATUSES = ['FAILED', 'FAULT', 'TIMED_OUT'] as const;

/** How a finished build reaches the suggester: through its verdict, or its own state change event. */
export type SuggestionRoute = 'verdict' | 'pipeline-build-failure';

export function isPipelineBuild(initiator: string | undefined): boolean {
  return initiator?.startsWith(PIPELINE_INITIATOR_PREFIX) ?? false;
}

/**
 * The route by which the deployed stack hands this build to the suggester, or `undefined` when it does not
 * (a stopped build; a build without an initiator, which no rule matches). Pipeline builds that succeeded
 * are scored by the pipeline's BuildScoringAction, whose verdict reaches the suggester.
 */
export function suggestionRoute(build: {
  readonly status: BuildStatus;
  readonly initiator?: string;
}): SuggestionRoute | undefined {
  if (build.initiator === undefined) return undefined;
  if (isPipelineBuild(build.initiator)) {
    if ((PIPELINE_FAILURE_STATUSES as readonly string[]).includes(build.status)) {
      return 'pipeline-build-failure';
    }
    return build.status === 'SUCCEEDED' ? 'verdict' : undefined;
  }
  return (SUGGESTER_VERDICT_STATUSES as readonly string[]).includes(build.status) ? 'verdict' : undefined;
}
