/** One remediation as the state machine carries it: the classification of a failed build and the guard's verdict. */
import { Classification, GuardResult } from '../../core/remediation/remediation';

/** Build app:1 of CodeBuild project `app` failed on DNS; the classifier chose a clean rerun. */
export const dnsFailureRerun: Classification = {
  eventId: 'e1',
  claimKey: 'build:app:1',
  target: { kind: 'codebuild-project', projectName: 'app', buildId: 'app:1', revision: 'r1' },
  decision: { action: 'RERUN_CLEAN', reasons: ['DNS failure'], confidence: 0.7 },
  classifiedAt: '2026-11-21T12:00:00.000Z',
};

/** The guard let remediation rem-1 proceed in enforce mode. */
export const enforcedProceed: GuardResult = {
  outcome: 'PROCEED',
  mode: 'enforce',
  reasons: ['enforce'],
  remediationId: 'rem-1',
  executionId: 'x1',
};
