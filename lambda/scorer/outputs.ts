/** What every scored build leaves behind: the `AnomalyScore` EMF metrics and the verdict event. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';

import {
  ANOMALY_SCORE_METRIC,
  ANOMALY_SCORE_RATIO_METRIC,
  PROJECT_DIMENSION,
  SCORING_ERRORS_METRIC,
} from '../../core/scoring/scoring-metrics';
import { BuildVerdict } from '../../core/scoring/verdict';
import { metrics } from '../shared/powertools';

export interface VerdictSink {
  publish(verdict: BuildVerdict): Promise<void>;
}

/** Emits the metrics (flushed at once: one EMF record per build) and then publishes the event. */
export async function recordVerdict(verdict: BuildVerdict, sink: VerdictSink): Promise<void> {
  metrics.addDimension(PROJECT_DIMENSION, verdict.projectName);
  metrics.addMetadata('buildId', verdict.buildId);
  metrics.addMetadata('scorer', verdict.scorer);
  metrics.addMetric(ANOMALY_SCORE_METRIC, MetricUnit.NoUnit, verdict.score);
  metrics.addMetric(
    ANOMALY_SCORE_RATIO_METRIC,
    MetricUnit.NoUnit,
    verdict.threshold > 0 ? verdict.score / verdict.threshold : 0,
  );
  metrics.publishStoredMetrics();
  await sink.publish(verdict);
}

/** Counts a build that could not be scored, by project, with the error's name as metadata. */
export function recordScoringError(projectName: string, error: Error): void {
  metrics.addDimension(PROJECT_DIMENSION, projectName);
  metrics.addMetadata('error', error.name);
  metrics.addMetric(SCORING_ERRORS_METRIC, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}
