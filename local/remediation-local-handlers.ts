/**
 * The remediation Lambdas' own code (classify, the idempotent guard, record-outcome) wired to in-memory
 * stores, for running the state machine locally: only the AWS actions (CodeBuild, CodePipeline, SNS,
 * the approval) and the classifier's look-ups are supplied by the caller, e.g. the replay's simulation.
 */
import { MemoryDigestStore } from './memory-digest-store';
import { MemoryGuardStore } from './memory-guard-store';
import { MemoryIdempotencyStore } from './memory-idempotency-store';
import { LOCAL_NOTIFICATION_ROUTES, RemediationTaskHandlers } from './remediation-runner';
import { DEFAULT_GUARD_LIMITS, GuardLimits } from '../core/remediation/guards';
import { NotificationRoutes } from '../core/remediation/notification-routes';
import { QuarantineEntry } from '../core/remediation/quarantine';
import { RemediationMode } from '../core/remediation/remediation';
import { DecisionRecord, DecisionRecordSink } from '../core/remediation/remediation-record';
import { ClassifyConfig, ClassifyPorts, classify } from '../lambda/classify/classify';
import { parseTrigger } from '../lambda/classify/events';
import { createGuardOnce, LambdaContext } from '../lambda/guard/guard-once';
import { recordOutcome } from '../lambda/record-outcome/record-outcome';
import { MemoryFlakyTestHistory } from '../lambda/remediation/s3-flaky-test-history';
import { guardRequestSchema, outcomeReportSchema, parseInput } from '../lambda/remediation/schemas';

export interface LocalRemediationOptions {
  readonly classifyPorts: ClassifyPorts;
  readonly classifyConfig?: Partial<ClassifyConfig>;
  readonly limits?: GuardLimits;
  readonly defaultMode?: RemediationMode;
  /**
   * The main topic and the owners' topics record-outcome routes to (`notificationRoutesOf(template)`
   * gives the synthesized stack's).
   * @default LOCAL_NOTIFICATION_ROUTES: a main topic, no owners
   */
  readonly routes?: NotificationRoutes;
  /** The clock every component reads (simulated time in the replay). */
  readonly now?: () => Date;
  /** The AWS side: CodeBuild reruns, stage retries and rollbacks, SNS, approvals, pipeline look-ups. */
  readonly actions: Pick<
    RemediationTaskHandlers,
    'startBuild' | 'retryStageExecution' | 'rollbackStage' | 'publish' | 'requestApproval' | 'pipelineTarget'
  >;
}

export interface LocalRemediation {
  readonly handlers: RemediationTaskHandlers;
  readonly guardStore: MemoryGuardStore;
  /** Tests recorded as flaky (a rerun of the same revision passed after they failed). */
  readonly flakyTests: MemoryFlakyTestHistory;
  /**
   * Each project's quarantine entries as classify reads them (empty unless a caller adds some; the
   * replay has none).
   */
  readonly quarantine: Map<string, QuarantineEntry[]>;
  /** Every decision record written, in order. */
  readonly records: DecisionRecord[];
  /** The occurrences record-outcome counted for the daily digest. */
  readonly digest: MemoryDigestStore;
}

export function createLocalRemediation(options: LocalRemediationOptions): LocalRemediation {
  const now = options.now ?? (() => new Date());
  const guardStore = new MemoryGuardStore();
  const flakyTests = new MemoryFlakyTestHistory();
  const digest = new MemoryDigestStore();
  const quarantine = new Map<string, QuarantineEntry[]>();
  // The caller's ports (possibly a class instance) read the flaky tests record-outcome writes and the
  // quarantine above, unless they bring their own.
  const classifyPorts: ClassifyPorts = Object.assign(
    Object.create(options.classifyPorts) as ClassifyPorts,
    options.classifyPorts.knownFlakyTests
      ? {}
      : { knownFlakyTests: (projectName: string) => flakyTests.knownFlaky(projectName) },
    options.classifyPorts.quarantinedTests
      ? {}
      : { quarantinedTests: (projectName: string) => Promise.resolve(quarantine.get(projectName) ?? []) },
  );
  const records: DecisionRecord[] = [];
  const sink: DecisionRecordSink = {
    save: (record) => {
      records.push(record);
      return Promise.resolve();
    },
  };
  const limits = options.limits ?? DEFAULT_GUARD_LIMITS;
  const defaultMode = options.defaultMode ?? 'shadow';
  const guardOnce = createGuardOnce({
    persistenceStore: new MemoryIdempotencyStore(),
    context: () => ({
      store: guardStore,
      limits,
      defaultMode,
      nowSeconds: Math.floor(now().getTime() / 1000),
    }),
  });
  // Local runs have no Lambda deadline; an in-progress claim may hold for the guard's one-minute budget.
  guardOnce.idempotencyConfig.registerLambdaContext({
    getRemainingTimeInMillis: () => 60_000,
  } as LambdaContext);
  const classifyConfig: ClassifyConfig = {
    ownInitiatorPrefixes: options.classifyConfig?.ownInitiatorPrefixes ?? [],
    healthAlarms: options.classifyConfig?.healthAlarms ?? [],
    now,
  };
  return {
    guardStore,
    flakyTests,
    quarantine,
    records,
    digest,
    handlers: {
      ...options.actions,
      classify: (input) => classify(parseTrigger(input.event), classifyPorts, classifyConfig),
      guard: (input) => guardOnce(parseInput(guardRequestSchema, input, 'guard request')),
      recordOutcome: (input) =>
        recordOutcome(parseInput(outcomeReportSchema, input, 'outcome report'), {
          guardStore,
          sink,
          flakyTests,
          notificationDedup: guardStore,
          digest,
          routes: options.routes ?? LOCAL_NOTIFICATION_ROUTES,
          now,
        }),
    },
  };
}
