/** Names of the scorer's CloudWatch metrics: emitted by the scorer Lambda, alarmed on by the CDK app. */

export const ANOMALY_SCORE_METRIC = 'AnomalyScore';
/** Score divided by its scorer's threshold: comparable across scorers and projects (above 1: anomalous). */
export const ANOMALY_SCORE_RATIO_METRIC = 'AnomalyScoreRatio';
/** Builds a pipeline action could not score (answered, so Lambda's own Errors metric does not count them). */
export const SCORING_ERRORS_METRIC = 'ScoringErrors';
/** The dimension holding the CodeBuild project name. */
export const PROJECT_DIMENSION = 'project';
