/**
 * The report's figures, all computed from one replay: detection against the injected labels, what
 * remediation did and what it saved, recovery times with and without Pipemend, and the monthly AWS cost of
 * the deployed stack for this workload.
 */
import {
  digestMessages,
  DigestOccurrence,
  foldOccurrences,
} from '../../core/remediation/notification-digest';
import type { ReplayedBuild, ReplayResult } from '../replay';
import { FUNCTION_MEMORY_MB, LOG_BYTES, UNIT_PRICES } from './pricing';
import type { IncidentKind } from '../simulation/scenario';

const HOUR_MS = 3_600_000;

export interface IncidentOutcome {
  readonly id: string;
  readonly kind: IncidentKind;
  readonly pipeline: string;
  readonly start: string;
  readonly labelledBuilds: number;
  readonly detected: boolean;
  /** First anomalous verdict on one of the incident's builds, hours after the incident began. */
  readonly hoursToDetect?: number;
  /** For incidents that build up (resource exhaustion): hours the detection came before the first failure. */
  readonly hoursBeforeFirstFailure?: number;
  /** Actions remediation decided on the incident's builds, in order. */
  readonly actions: readonly string[];
  readonly manualAction: string;
  /** Hours from the first failure to recovery without Pipemend (the team's own response). */
  readonly hoursToRecoverManually?: number;
  /** Hours from the first failure to recovery in this replay (Pipemend's action, or the team's if sooner). */
  readonly hoursToRecover?: number;
  readonly recoveredBy?: 'pipemend' | 'team';
}

export interface DetectionMetrics {
  /**
   * Why detection cannot be scored against labels (a `--data` replay has none; a simulated history can
   * hold no incident), or null when it can. When set, every ratio below is null: unknown, not 0%.
   */
  readonly unknownBecause: string | null;
  /** Anomalous verdicts on labelled builds / all anomalous verdicts (Pipemend's own builds excluded). */
  readonly precision: number | null;
  /** Labelled builds flagged / labelled builds. */
  readonly buildRecall: number | null;
  /** Incidents with at least one flagged build / incidents. */
  readonly incidentRecall: number | null;
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
  /** Flagged builds that failed for a flaky test (real failures, but not injected incidents). */
  readonly flakyFlagged: number;
  /** Precision over the builds the trained model scored (the cold-start baseline's verdicts left out). */
  readonly modelPrecision: number | null;
  readonly meanHoursToDetect: number | null;
}

export interface RemediationSummary {
  /** Decided actions by action name. */
  readonly decided: Record<string, number>;
  /** Executions by final status. */
  readonly statuses: Record<string, number>;
  /** Failed builds a rerun or stage retry by Pipemend turned green. */
  readonly buildsSavedByReruns: number;
  readonly rerunsFailed: number;
  readonly rollbacksPerformed: number;
  readonly notifications: number;
  /** Whether a remediation stage ran at all (a `--data` replay detects only). */
  readonly ran: boolean;
  /** Executions by decided action, then by final status. */
  readonly outcomes: Record<string, Record<string, number>>;
  readonly flakyTests: FlakyTestSummary;
  /** Notifications grouped by failure fingerprint. */
  readonly grouping: NotificationGrouping;
}

export interface NotificationGrouping {
  /** Distinct fingerprints of the failures a human was to hear about (sent or folded into an earlier one). */
  readonly distinctFailures: number;
  /** Of those, the ones at least one notification was sent for. */
  readonly distinctFailuresNotified: number;
  /** Repeats within the window that only counted. */
  readonly repeatsFolded: number;
  /** Daily digests the repeats would be summarised in: one per day (and topic) with repeats. */
  readonly digests: number;
}

/** How the failures of flaky tests and of regressions were handled (simulation truth). */
export interface FlakyTestSummary {
  /** History builds that failed on a flaky test and reached remediation. */
  readonly flakyFailures: number;
  /** Of those, rescued by a rerun (it passed) without a notification. */
  readonly rescuedWithoutPage: number;
  /** Of those, the ones that notified someone. */
  readonly paged: number;
  /** Regression builds rerun (or retried) by Pipemend, and the most reruns of any one revision. */
  readonly regressionReruns: number;
  readonly maxRerunsOfOneRegressionRevision: number;
  /** Regression builds whose tests were treated as flaky (a rerun on the flaky basis, or rescued): must be 0. */
  readonly brokenTreatedAsFlaky: number;
  /** Builds whose failed tests passed the rerun of the same revision (outcome `rescued-by-rerun`). */
  readonly rescuedBuilds: number;
  /** The tests most often rescued by a rerun (then most often rerun for), at most TOP_FLAKY_TESTS. */
  readonly topTests: readonly FlakyTestRow[];
}

/** A test whose failure remediation reran the build for, with how those reruns ended. */
export interface FlakyTestRow {
  readonly projectName: string;
  readonly name: string;
  /** Builds rerun because this test failed (among others, maybe). */
  readonly reruns: number;
  /** Of those, the reruns that passed: the test failed and passed on one revision. */
  readonly rescued: number;
  /** Of those, the reruns that failed again: a regression, not a flake. */
  readonly failedAgain: number;
}

export const TOP_FLAKY_TESTS = 5;

/** Per test, the reruns remediation decided on its failure and how they ended; most rescued first. */
export function topFlakyTests(builds: readonly ReplayedBuild[], limit = TOP_FLAKY_TESTS): FlakyTestRow[] {
  const rows = new Map<
    string,
    { projectName: string; name: string; reruns: number; rescued: number; failedAgain: number }
  >();
  for (const build of builds) {
    for (const name of build.remediation?.failedTests ?? []) {
      const key = JSON.stringify([build.projectName, name]);
      const row = rows.get(key) ?? {
        projectName: build.projectName,
        name,
        reruns: 0,
        rescued: 0,
        failedAgain: 0,
      };
      row.reruns += 1;
      if (build.remediation?.testOutcome === 'rescued-by-rerun') row.rescued += 1;
      if (build.remediation?.testOutcome === 'failed-again') row.failedAgain += 1;
      rows.set(key, row);
    }
  }
  return [...rows.values()]
    .sort(
      (a, b) =>
        b.rescued - a.rescued ||
        b.reruns - a.reruns ||
        a.projectName.localeCompare(b.projectName) ||
        a.name.localeCompare(b.name),
    )
    .slice(0, limit);
}

/** The fix suggestions of one distinct cause: same project, category and summary. */
export interface SuggestionGroup {
  readonly project: string;
  readonly category: string;
  readonly summary: string;
  readonly fix: string;
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly meanConfidence: number;
  readonly redactedSecrets: number;
  /** Every build it was suggested for, in time order. */
  readonly builds: readonly {
    readonly time: string;
    readonly buildId: string;
    readonly truth: string;
    readonly action: string;
    readonly confidence: number;
    readonly evidence: string;
  }[];
}

export interface CostLine {
  readonly service: string;
  readonly usage: string;
  readonly monthlyUsd: number;
}

export interface ReportMetrics {
  /** Every build the replay scored: the history's builds and the ones Pipemend started. */
  readonly buildsReplayed: number;
  /** The history's own builds (the denominator of every detection figure). */
  readonly organicBuilds: number;
  /** Builds Pipemend started: reruns, stage retries and rollbacks. */
  readonly pipemendBuilds: number;
  readonly failedBuilds: number;
  readonly anomalousBuilds: number;
  readonly incidents: readonly IncidentOutcome[];
  readonly detection: DetectionMetrics;
  readonly remediation: RemediationSummary;
  readonly suggestions: readonly SuggestionGroup[];
  readonly meanHoursToRecoverManually: number | null;
  readonly meanHoursToRecover: number | null;
  readonly cost: {
    readonly lines: readonly CostLine[];
    readonly monthlyUsd: number;
    readonly endpointAlternativeUsd: number;
    /** Parts of the deployed stack this run did not exercise, so the estimate leaves them out. */
    readonly notCounted: readonly string[];
  };
  readonly buildsPerSecond: number;
}

export function computeMetrics(result: ReplayResult): ReportMetrics {
  const byId = new Map(result.builds.map((b) => [b.buildId, b]));
  const organic = result.builds.filter((b) => !b.truth?.remediation);
  const incidents = result.incidents.map((incident) => incidentOutcome(incident, result.builds, byId));
  return {
    buildsReplayed: result.builds.length,
    organicBuilds: organic.length,
    pipemendBuilds: result.builds.length - organic.length,
    failedBuilds: organic.filter((b) => b.status !== 'SUCCEEDED').length,
    anomalousBuilds: organic.filter((b) => b.anomalous).length,
    incidents,
    detection: detection(organic, incidents, unknownBecause(result)),
    remediation: remediationSummary(result.builds, byId, result.counts.remediations > 0),
    suggestions: suggestionGroups(result.builds),
    meanHoursToRecoverManually: mean(incidents.map((i) => i.hoursToRecoverManually)),
    meanHoursToRecover: mean(incidents.map((i) => i.hoursToRecover)),
    cost: costEstimate(result),
    buildsPerSecond: result.builds.length / (result.wallMs / 1000),
  };
}

function incidentOutcome(
  incident: ReplayResult['incidents'][number],
  builds: readonly ReplayedBuild[],
  byId: ReadonlyMap<string, ReplayedBuild>,
): IncidentOutcome {
  const start = incident.start.getTime();
  const labelled = builds.filter((b) => b.truth?.incidentId === incident.spec.id && !b.truth.remediation);
  const firstFlagged = labelled.find((b) => b.anomalous);
  const firstFailure = incident.firstFailureAt?.getTime();
  const hoursToDetect = firstFlagged ? (Date.parse(firstFlagged.endTime) - start) / HOUR_MS : undefined;
  const actions = labelled.flatMap((b) =>
    b.remediation ? [`${b.remediation.action}: ${b.remediation.status}`] : [],
  );

  // Pipemend recovered the incident when one of its own builds for it passed: a rerun or retry of one of
  // the incident's failed builds, or a rollback of the incident's pipeline after the bad deployment.
  const recoveries = builds.filter((b) => {
    if (!b.truth?.remediation || b.status !== 'SUCCEEDED') return false;
    if (firstFailure === undefined || Date.parse(b.startTime) < firstFailure) return false;
    if (b.truth.remediation === 'rollback') {
      return incident.spec.kind === 'bad_deploy' && b.pipelineName === incident.spec.pipeline;
    }
    const original = b.truth.remediationOf ? byId.get(b.truth.remediationOf) : undefined;
    return original?.truth?.incidentId === incident.spec.id;
  });
  const pipemendAt =
    recoveries.length > 0 ? Math.min(...recoveries.map((b) => Date.parse(b.endTime))) : undefined;
  const manualAt = incident.manualRecoveryAt.getTime();
  const recoveredAt = pipemendAt !== undefined ? Math.min(pipemendAt, manualAt) : manualAt;
  return {
    id: incident.spec.id,
    kind: incident.spec.kind,
    pipeline: incident.spec.pipeline,
    start: incident.start.toISOString(),
    labelledBuilds: labelled.length,
    detected: firstFlagged !== undefined,
    ...(hoursToDetect !== undefined ? { hoursToDetect } : {}),
    ...(firstFlagged && firstFailure !== undefined && incident.spec.kind === 'resource_exhaustion'
      ? { hoursBeforeFirstFailure: (firstFailure - Date.parse(firstFlagged.endTime)) / HOUR_MS }
      : {}),
    actions,
    manualAction: incident.manualAction,
    ...(firstFailure !== undefined
      ? {
          hoursToRecoverManually: (manualAt - firstFailure) / HOUR_MS,
          hoursToRecover: (recoveredAt - firstFailure) / HOUR_MS,
          recoveredBy:
            pipemendAt !== undefined && pipemendAt <= manualAt ? ('pipemend' as const) : ('team' as const),
        }
      : {}),
  };
}

/** Why the replay cannot score detection against labels, or null when it can. */
function unknownBecause(result: ReplayResult): string | null {
  if (result.source === 'data') {
    return 'your own history has no labels: nothing says which builds belonged to an incident';
  }
  if (result.incidents.length === 0) return 'no labelled incidents in this history';
  return null;
}

function detection(
  organic: readonly ReplayedBuild[],
  incidents: readonly IncidentOutcome[],
  unknown: string | null,
): DetectionMetrics {
  const labelled = (b: ReplayedBuild) => b.truth?.incidentId !== undefined;
  const truePositives = organic.filter((b) => b.anomalous && labelled(b)).length;
  const falsePositives = organic.filter((b) => b.anomalous && !labelled(b)).length;
  const falseNegatives = organic.filter((b) => !b.anomalous && labelled(b)).length;
  const known = <T>(value: T): T | null => (unknown === null ? value : null);
  return {
    unknownBecause: unknown,
    precision: known(ratio(truePositives, truePositives + falsePositives)),
    buildRecall: known(ratio(truePositives, truePositives + falseNegatives)),
    incidentRecall: known(ratio(incidents.filter((i) => i.detected).length, incidents.length)),
    truePositives,
    falsePositives,
    falseNegatives,
    flakyFlagged: organic.filter((b) => b.anomalous && b.truth?.kind === 'flaky').length,
    modelPrecision: known(
      ratio(
        organic.filter((b) => b.anomalous && labelled(b) && b.scorer !== 'baseline').length,
        organic.filter((b) => b.anomalous && b.scorer !== 'baseline').length,
      ),
    ),
    meanHoursToDetect: known(mean(incidents.map((i) => i.hoursToDetect))),
  };
}

function remediationSummary(
  builds: readonly ReplayedBuild[],
  byId: ReadonlyMap<string, ReplayedBuild>,
  ran: boolean,
): RemediationSummary {
  const decided: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  const outcomes: Record<string, Record<string, number>> = {};
  for (const build of builds) {
    if (!build.remediation) continue;
    const { action, status } = build.remediation;
    decided[action] = (decided[action] ?? 0) + 1;
    statuses[status] = (statuses[status] ?? 0) + 1;
    const byStatus = (outcomes[action] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }
  const reruns = builds.filter((b) => b.truth?.remediation === 'rerun' || b.truth?.remediation === 'retry');
  const savedFailures = reruns.filter((b) => {
    const original = b.truth?.remediationOf ? byId.get(b.truth.remediationOf) : undefined;
    return b.status === 'SUCCEEDED' && original !== undefined && original.status !== 'SUCCEEDED';
  });
  const flaky = builds.filter((b) => b.truth?.kind === 'flaky' && !b.truth.remediation && b.remediation);
  const regressionRerunsByRevision = new Map<string, number>();
  for (const rerun of reruns) {
    const original = rerun.truth?.remediationOf ? byId.get(rerun.truth.remediationOf) : undefined;
    if (original?.truth?.kind !== 'regression') continue;
    const key = `${original.projectName}#${original.revision ?? original.buildId}`;
    regressionRerunsByRevision.set(key, (regressionRerunsByRevision.get(key) ?? 0) + 1);
  }
  const flakyTests: FlakyTestSummary = {
    flakyFailures: flaky.length,
    rescuedWithoutPage: flaky.filter(
      (b) => b.remediation?.testOutcome === 'rescued-by-rerun' && b.remediation.notifications === 0,
    ).length,
    paged: flaky.filter((b) => (b.remediation?.notifications ?? 0) > 0).length,
    regressionReruns: [...regressionRerunsByRevision.values()].reduce((n, c) => n + c, 0),
    maxRerunsOfOneRegressionRevision: Math.max(0, ...regressionRerunsByRevision.values()),
    brokenTreatedAsFlaky: builds.filter(
      (b) =>
        b.truth?.kind === 'regression' &&
        (b.remediation?.testsBasis === 'flaky' || b.remediation?.testOutcome === 'rescued-by-rerun'),
    ).length,
    rescuedBuilds: builds.filter((b) => b.remediation?.testOutcome === 'rescued-by-rerun').length,
    topTests: topFlakyTests(builds),
  };
  const wanted = builds.filter(
    (b) =>
      b.remediation?.fingerprint && (b.remediation.notifications > 0 || b.remediation.notificationFolded),
  );
  const grouping: NotificationGrouping = {
    distinctFailures: new Set(wanted.map((b) => b.remediation!.fingerprint)).size,
    distinctFailuresNotified: new Set(
      wanted.filter((b) => b.remediation!.notifications > 0).map((b) => b.remediation!.fingerprint),
    ).size,
    repeatsFolded: builds.filter((b) => b.remediation?.notificationFolded).length,
    digests: digestsOf(builds),
  };
  return {
    flakyTests,
    grouping,
    decided,
    statuses,
    buildsSavedByReruns: savedFailures.length,
    rerunsFailed: reruns.filter((b) => b.status !== 'SUCCEEDED').length,
    rollbacksPerformed: builds.filter((b) => b.truth?.remediation === 'rollback').length,
    notifications: builds.reduce((n, b) => n + (b.remediation?.notifications ?? 0), 0),
    ran,
    outcomes,
  };
}

/** The digest messages the daily digest would send for the replay's grouped failures (the core's code). */
export function digestsOf(builds: readonly ReplayedBuild[]): number {
  const occurrences = builds
    .map((b) => b.remediation?.digestOccurrence)
    .filter((occurrence): occurrence is DigestOccurrence => occurrence !== undefined);
  const entries = foldOccurrences(occurrences);
  const days = [...new Set(entries.map((entry) => entry.day))];
  return days.reduce((n, day) => n + digestMessages(day, entries).length, 0);
}

/**
 * The suggestions grouped by distinct cause. A suggestion has no fingerprint of its own, so the key is
 * what a reader would call the same cause: the project, the failure category and the summary.
 */
function suggestionGroups(builds: readonly ReplayedBuild[]): SuggestionGroup[] {
  const groups = new Map<string, ReplayedBuild[]>();
  for (const build of builds) {
    if (!build.suggestion) continue;
    const key = JSON.stringify([build.projectName, build.suggestion.category, build.suggestion.summary]);
    const group = groups.get(key) ?? [];
    group.push(build);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((group) => {
      const sorted = [...group].sort((a, b) => a.endTime.localeCompare(b.endTime));
      const first = sorted[0]!;
      const last = sorted[sorted.length - 1]!;
      const suggestion = last.suggestion!;
      return {
        project: first.projectName,
        category: suggestion.category,
        summary: suggestion.summary,
        fix: suggestion.suggestedFix,
        count: sorted.length,
        firstSeen: first.endTime,
        lastSeen: last.endTime,
        meanConfidence: sorted.reduce((sum, b) => sum + b.suggestion!.confidence, 0) / sorted.length,
        redactedSecrets: sorted.reduce((sum, b) => sum + b.suggestion!.redactedSecrets, 0),
        builds: sorted.map((b) => ({
          time: b.endTime,
          buildId: b.buildId,
          truth: b.truth?.incidentId ?? b.truth?.kind ?? '',
          action: b.remediation ? `${b.remediation.action} (${b.remediation.status})` : '',
          confidence: b.suggestion!.confidence,
          evidence: b.suggestion!.excerpt.text.split('\n').slice(0, 4).join('\n'),
        })),
      };
    })
    .sort((a, b) => b.count - a.count || a.firstSeen.localeCompare(b.firstSeen));
}

/** Monthly cost of the deployed stack for this workload: the replay's counts scaled to 30 days. */
function costEstimate(result: ReplayResult): ReportMetrics['cost'] {
  const perMonth = 30 / Math.max(result.days, 1);
  const c = result.counts;
  const ms = result.stageMs;
  const lambda = (name: string, invocations: number, totalMs: number, memoryMb: number): CostLine => {
    const gbSeconds = (totalMs / 1000) * (memoryMb / 1024);
    return {
      service: `Lambda: ${name}`,
      usage: `${fmt(invocations * perMonth)} invocations, ${fmt(gbSeconds * perMonth)} GB-s (${memoryMb} MB, ${fmt(totalMs / Math.max(invocations, 1))} ms each as measured locally)`,
      monthlyUsd:
        (invocations * UNIT_PRICES.lambdaPerRequest + gbSeconds * UNIT_PRICES.lambdaPerGbSecondArm) *
        perMonth,
    };
  };
  const remediationInvocations = c.remediationLambdaInvocations;
  const metricsPerMonth = c.distinctMetrics;
  const logBytes =
    c.metricsEmitted * LOG_BYTES.perMetric +
    (c.eventsCollected + c.verdicts + remediationInvocations) * LOG_BYTES.perInvocation;
  const lines: CostLine[] = [
    lambda('collector', c.eventsCollected, ms.collect, FUNCTION_MEMORY_MB.collector),
    lambda('scorer', c.verdicts, ms.score, FUNCTION_MEMORY_MB.scorer),
    lambda('embedded trainer', c.trainings, ms.train, FUNCTION_MEMORY_MB.embeddedTrainer),
    lambda('suggester', c.suggestions, ms.suggest, FUNCTION_MEMORY_MB.suggester),
    lambda(
      'remediation (classify, guard, record)',
      remediationInvocations,
      // Time of the executions run, extended to those counted at the first normal execution's cost.
      (ms.remediate * c.remediations) / Math.max(c.remediationsRun, 1),
      FUNCTION_MEMORY_MB.remediation,
    ),
    {
      service: 'Step Functions (Standard)',
      usage: `${fmt(c.stateTransitions * perMonth)} state transitions in ${fmt(c.remediations * perMonth)} executions (one per verdict)`,
      monthlyUsd: c.stateTransitions * UNIT_PRICES.stepFunctionsPerTransition * perMonth,
    },
    {
      service: 'EventBridge',
      usage: `${fmt((c.verdicts + c.suggestions) * perMonth)} custom events (verdicts, suggestions)`,
      monthlyUsd: (c.verdicts + c.suggestions) * UNIT_PRICES.eventBridgePerEvent * perMonth,
    },
    {
      service: 'S3 data lake',
      usage: `${fmt(c.dataLakePuts * perMonth)} PUTs, ${fmt(c.dataLakeGets * perMonth)} GETs, ${fmt((c.dataLakeBytes / 1e9) * perMonth, 3)} GB added`,
      // Storage: the average month holds half of what the month adds on top of what earlier months left.
      monthlyUsd:
        (c.dataLakePuts * UNIT_PRICES.s3PerPut + c.dataLakeGets * UNIT_PRICES.s3PerGet) * perMonth +
        (c.dataLakeBytes / 1e9) * UNIT_PRICES.s3PerGbMonth,
    },
    {
      service: 'CloudWatch',
      usage: `${metricsPerMonth} custom metrics, ${fmt((logBytes / 1e9) * perMonth, 3)} GB logs`,
      monthlyUsd:
        metricsPerMonth * UNIT_PRICES.cloudWatchPerMetricMonth +
        (logBytes / 1e9) * UNIT_PRICES.cloudWatchLogsPerGb * perMonth,
    },
    {
      service: 'SNS',
      usage: `${fmt(c.notifications * perMonth)} notifications (email)`,
      monthlyUsd: c.notifications * (UNIT_PRICES.snsPerPublish + UNIT_PRICES.snsPerEmail) * perMonth,
    },
    {
      service: 'DynamoDB (remediation state)',
      usage: `${fmt(c.guardWrites * perMonth)} writes, ${fmt(c.guardReads * perMonth)} reads`,
      monthlyUsd:
        (c.guardWrites * UNIT_PRICES.dynamoDbPerWrite + c.guardReads * UNIT_PRICES.dynamoDbPerRead) *
        perMonth,
    },
    {
      service: 'KMS',
      // The data lake uses S3 Bucket Keys (lib/data-lake.ts): object requests do not each call KMS.
      usage: '1 customer managed key',
      monthlyUsd: UNIT_PRICES.kmsPerKeyMonth,
    },
  ];
  // A stage that did not run costs nothing here: its lines say so rather than show a usage of 0.
  const remediationRan = c.remediations > 0;
  const suggestionsRan =
    result.source === 'simulation' && !result.missingStages.some((s) => s.startsWith('suggestions'));
  const notRun = (line: CostLine): CostLine => ({ ...line, usage: 'not part of this run', monthlyUsd: 0 });
  const remediationServices = ['Lambda: remediation', 'Step Functions', 'DynamoDB', 'SNS'];
  const counted = lines.map((line) =>
    (!remediationRan && remediationServices.some((service) => line.service.startsWith(service))) ||
    (!suggestionsRan && line.service === 'Lambda: suggester')
      ? notRun(line)
      : line,
  );
  return {
    lines: counted,
    monthlyUsd: counted.reduce((sum, line) => sum + line.monthlyUsd, 0),
    endpointAlternativeUsd: UNIT_PRICES.sagemakerT2MediumPerHour * 24 * 30,
    notCounted: [
      ...(remediationRan ? [] : ['remediation (Step Functions, its Lambda functions, DynamoDB, SNS)']),
      ...(suggestionsRan ? [] : ['fix suggestions (the suggester function)']),
    ],
  };
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

function mean(values: readonly (number | undefined)[]): number | null {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? null : defined.reduce((a, b) => a + b, 0) / defined.length;
}

function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A replay's speed as the report and the terminal print it: a rate, never a count ("0.6 builds/s"). */
export function formatBuildRate(buildsPerSecond: number): string {
  return `${buildsPerSecond < 10 ? buildsPerSecond.toFixed(1) : buildsPerSecond.toFixed(0)} builds/s`;
}
