import type { ReplayedBuild } from '../../../local/replay';

/**
 * Build `id` of project app-build as the replay reports it, scored normal by the embedded model v1;
 * `fields` say when it ran and how it ended, and override the rest.
 */
export function replayedBuild(
  id: string,
  fields: Pick<ReplayedBuild, 'startTime' | 'endTime' | 'status'> & Partial<ReplayedBuild>,
): ReplayedBuild {
  return {
    buildId: id,
    buildArn: `arn:aws:codebuild:eu-west-1:123456789012:build/${id}`,
    projectName: 'app-build',
    score: 0.5,
    threshold: 1,
    anomalous: false,
    scorer: 'embedded',
    modelVersion: 'v1',
    topFeatures: [],
    ...fields,
  };
}
