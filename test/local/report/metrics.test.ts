import { replayedBuild } from './replayed-build.fixtures';
import type { ReplayedBuild, ReplayResult } from '../../../local/replay';
import { computeMetrics, formatBuildRate, topFlakyTests } from '../../../local/report/metrics';
import { UNIT_PRICES } from '../../../local/report/pricing';
import type { IncidentTruth } from '../../../local/simulation/history';

const at = (hour: number) => new Date(Date.UTC(2026, 5, 1, hour)).toISOString();

function build(id: string, hour: number, fields: Partial<ReplayedBuild> = {}): ReplayedBuild {
  return replayedBuild(id, {
    pipelineName: 'app',
    stageName: 'Build',
    startTime: at(hour - 1),
    endTime: at(hour),
    status: 'SUCCEEDED',
    truth: { kind: 'normal' },
    ...fields,
  });
}

const incident: IncidentTruth = {
  spec: { id: 'env', kind: 'env_fault', pipeline: 'app', day: 0, variant: 'dns' },
  start: new Date(at(9)),
  affectedBuildIds: ['fail'],
  firstFailureBuildId: 'fail',
  firstFailureAt: new Date(at(10)),
  manualRecoveryAt: new Date(at(14)),
  manualAction: 'reran the build',
};

function result(builds: ReplayedBuild[]): ReplayResult {
  return {
    source: 'simulation',
    mode: 'enforce',
    start: at(0),
    end: at(24 * 15),
    days: 15,
    builds,
    trainings: [],
    incidents: [incident],
    counts: {
      eventsCollected: 100,
      eventsRejected: 0,
      dataLakePuts: 300,
      dataLakeGets: 50,
      dataLakeBytes: 1e6,
      metricsEmitted: 200,
      distinctMetrics: 6,
      verdicts: 50,
      remediations: 2,
      remediationsRun: 2,
      stateTransitions: 40,
      remediationLambdaInvocations: 8,
      notifications: 1,
      guardWrites: 10,
      guardReads: 2,
      suggestions: 1,
      trainings: 2,
    },
    missingStages: [],
    wallMs: 1000,
    stageMs: { collect: 100, score: 50, train: 500, remediate: 40, suggest: 10 },
  };
}

const remediation = {
  action: 'RERUN_CLEAN',
  guard: 'PROCEED',
  status: 'SUCCEEDED',
  reasons: [],
  startedBuildIds: ['rerun'],
  executionMs: 5,
  stateTransitions: 20,
  lambdaInvocations: 4,
  guarded: true,
  notifications: 1,
  endedAt: at(11),
};

describe('computeMetrics', () => {
  const builds = [
    build('ok', 8),
    build('fail', 10, {
      status: 'FAILED',
      anomalous: true,
      score: 3,
      truth: { kind: 'env_fault', incidentId: 'env', variant: 'dns' },
      remediation,
    }),
    build('rerun', 11, {
      startTime: at(10.5),
      truth: { kind: 'normal', remediation: 'rerun', remediationOf: 'fail' },
    }),
    build('noise', 12, { anomalous: true }),
  ];
  const metrics = computeMetrics(result(builds));

  it('counts recovery from the first failure to the passing rerun, against the team by hand', () => {
    expect(metrics.incidents[0]).toMatchObject({ detected: true, hoursToDetect: 1, recoveredBy: 'pipemend' });
    expect(metrics.incidents[0]!.hoursToRecoverManually).toBeCloseTo(4);
    expect(metrics.incidents[0]!.hoursToRecover).toBeCloseTo(1);
  });

  it("measures precision over flagged organic builds and leaves Pipemend's own builds out", () => {
    expect(metrics.detection).toMatchObject({
      precision: 0.5,
      buildRecall: 1,
      truePositives: 1,
      falsePositives: 1,
    });
    expect(metrics.organicBuilds).toBe(3);
  });

  it('counts a failed build turned green by a rerun as saved', () => {
    expect(metrics.remediation).toMatchObject({
      buildsSavedByReruns: 1,
      rerunsFailed: 0,
      rollbacksPerformed: 0,
    });
    expect(metrics.remediation.decided).toEqual({ RERUN_CLEAN: 1 });
  });

  it("scales the run's counts to a 30-day month at list prices", () => {
    const stepFunctions = metrics.cost.lines.find((line) => line.service === 'Step Functions (Standard)')!;
    expect(stepFunctions.monthlyUsd).toBeCloseTo(40 * 2 * UNIT_PRICES.stepFunctionsPerTransition);
    const total = metrics.cost.lines.reduce((sum, line) => sum + line.monthlyUsd, 0);
    expect(metrics.cost.monthlyUsd).toBeCloseTo(total);
  });
});

describe('topFlakyTests', () => {
  const rerunFor = (id: string, tests: string[], testOutcome: string, projectName = 'app-build') =>
    build(id, 10, {
      status: 'FAILED',
      projectName,
      remediation: { ...remediation, testsBasis: 'first-failure', failedTests: tests, testOutcome },
    });

  it('counts per test the reruns decided on its failure and how they ended, most rescued first', () => {
    const builds = [
      rerunFor('b1', ['cart debounces'], 'rescued-by-rerun'),
      rerunFor('b2', ['cart debounces', 'pay total'], 'rescued-by-rerun'),
      rerunFor('b3', ['pay total'], 'failed-again'),
      rerunFor('b4', ['pay total'], 'failed-again'),
      build('b5', 11, { status: 'FAILED', remediation }),
    ];
    expect(topFlakyTests(builds)).toEqual([
      { projectName: 'app-build', name: 'cart debounces', reruns: 2, rescued: 2, failedAgain: 0 },
      { projectName: 'app-build', name: 'pay total', reruns: 3, rescued: 1, failedAgain: 2 },
    ]);
  });

  it('keeps tests of the same name in different projects apart', () => {
    const builds = [
      rerunFor('b1', ['lint'], 'rescued-by-rerun', 'api'),
      rerunFor('b2', ['lint'], 'failed-again', 'web'),
    ];
    expect(topFlakyTests(builds).map((row) => [row.projectName, row.rescued])).toEqual([
      ['api', 1],
      ['web', 0],
    ]);
  });

  it('lists at most the given number of tests', () => {
    const builds = ['a', 'b', 'c'].map((name, i) => rerunFor(`b${i}`, [name], 'rescued-by-rerun'));
    expect(topFlakyTests(builds, 2).map((row) => row.name)).toEqual(['a', 'b']);
  });
});

describe('formatBuildRate', () => {
  test('prints a rate, never a count that reads as "1 builds"', () => {
    expect(formatBuildRate(0.6)).toBe('0.6 builds/s');
    expect(formatBuildRate(1)).toBe('1.0 builds/s');
    expect(formatBuildRate(130.4)).toBe('130 builds/s');
  });
});
