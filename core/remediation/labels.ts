/**
 * Outcome labels: what remediation learned about a build or a deployment, fed back to training.
 *
 * Format (for the training pipeline). One JSON object per label, one S3 object per label, at
 * `labels/kind=<kind>/date=<YYYY-MM-DD>/<remediationId>.json` in the data lake:
 *
 * ```json
 * {
 *   "schemaVersion": 1,
 *   "kind": "environment-fault",          // or "bad-deployment"
 *   "anomalous": true,                     // both kinds are real anomalies: label 1 in an RCF test channel
 *   "projectName": "app-build",           // present when a CodeBuild build is labelled
 *   "buildId": "app-build:1f0c…",         // joins `features/project=<p>/date=<d>/<buildId>.csv` and `builds/…`
 *   "pipelineName": "app", "stageName": "Deploy", "pipelineExecutionId": "…",   // pipeline labels
 *   "remediationId": "…", "evidence": "clean rerun app-build:77aa… succeeded",
 *   "labelledAt": "2026-11-21T20:00:00.000Z"
 * }
 * ```
 *
 * `environment-fault`: a clean rerun of the same revision passed, so the original failure came from the
 * environment, not the change. `bad-deployment`: rolling the stage back restored health, so the
 * rolled-back execution deployed something bad. Keys are deterministic: a redelivered outcome overwrites.
 */
import { RemediationAction, RemediationTarget } from './remediation';

export const LABEL_SCHEMA_VERSION = 1;
export const LABEL_KINDS = ['environment-fault', 'bad-deployment'] as const;
export type LabelKind = (typeof LABEL_KINDS)[number];

export interface OutcomeLabel {
  readonly schemaVersion: typeof LABEL_SCHEMA_VERSION;
  readonly kind: LabelKind;
  readonly anomalous: true;
  readonly projectName?: string;
  readonly buildId?: string;
  readonly pipelineName?: string;
  readonly stageName?: string;
  readonly pipelineExecutionId?: string;
  readonly remediationId: string;
  readonly evidence: string;
  readonly labelledAt: string;
}

export interface SucceededRemediation {
  readonly remediationId: string;
  readonly action: RemediationAction;
  readonly target: RemediationTarget;
  /** What proved it worked, e.g. the rerun build id. */
  readonly evidence: string;
  readonly at: string;
}

/** The label a successful remediation teaches, if any (notifications teach nothing). */
export function labelForSuccess(remediation: SucceededRemediation): OutcomeLabel | undefined {
  const { target } = remediation;
  const kind: LabelKind | undefined =
    remediation.action === 'RERUN_CLEAN'
      ? 'environment-fault'
      : remediation.action === 'ROLLBACK'
        ? 'bad-deployment'
        : undefined;
  if (kind === undefined) return undefined;
  const subject =
    target.kind === 'codebuild-project'
      ? { projectName: target.projectName, buildId: target.buildId }
      : {
          pipelineName: target.pipelineName,
          stageName: target.stageName,
          pipelineExecutionId: target.pipelineExecutionId,
          ...(target.buildId ? { projectName: target.buildId.split(':')[0], buildId: target.buildId } : {}),
        };
  return {
    schemaVersion: LABEL_SCHEMA_VERSION,
    kind,
    anomalous: true,
    ...subject,
    remediationId: remediation.remediationId,
    evidence: remediation.evidence,
    labelledAt: remediation.at,
  };
}

export function labelKey(label: Pick<OutcomeLabel, 'kind' | 'labelledAt' | 'remediationId'>): string {
  return `labels/kind=${label.kind}/date=${label.labelledAt.slice(0, 10)}/${encodeURIComponent(label.remediationId)}.json`;
}
