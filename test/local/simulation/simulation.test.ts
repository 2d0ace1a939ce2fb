import { SMALL_SCENARIO } from './small-scenario';
import { findEnvironmentFaults } from '../../../core/logs/environment-faults';
import { generateHistory } from '../../../local/simulation/history';
import { renderBuildLog } from '../../../local/simulation/logs';
import { DEFAULT_SCENARIO } from '../../../local/simulation/scenario';

describe('generateHistory', () => {
  const history = generateHistory(SMALL_SCENARIO);

  it('is reproducible: the same seed yields the same builds', () => {
    const again = generateHistory(SMALL_SCENARIO);
    expect(again.builds.map((b) => [b.buildId, b.status, b.endTime.toISOString()])).toEqual(
      history.builds.map((b) => [b.buildId, b.status, b.endTime.toISOString()]),
    );
  });

  it('changes with the seed', () => {
    const other = generateHistory({ ...SMALL_SCENARIO, seed: 8 });
    expect(other.builds[0]!.buildId).not.toEqual(history.builds[0]!.buildId);
  });

  it('orders builds by end time', () => {
    const ends = history.builds.map((b) => b.endTime.getTime());
    expect(ends).toEqual([...ends].sort((a, b) => a - b));
  });

  it('runs most builds in working hours on weekdays', () => {
    const organic = history.builds.filter((b) => b.stageName === 'Build');
    const office = organic.filter((b) => {
      const day = b.startTime.getUTCDay();
      const hour = b.startTime.getUTCHours();
      return day >= 1 && day <= 5 && hour >= 8 && hour < 18;
    });
    expect(office.length / organic.length).toBeGreaterThan(0.7);
  });

  it('grows the test suite and the BUILD phase over time', () => {
    const full = generateHistory({ ...DEFAULT_SCENARIO, incidents: [] });
    const builds = full.builds.filter(
      (b) => b.projectName === 'storefront-build' && b.status === 'SUCCEEDED',
    );
    const buildSeconds = (b: (typeof builds)[number]) => b.phases.find((p) => p.type === 'BUILD')!.seconds!;
    const early = builds.slice(0, 50);
    const late = builds.slice(-50);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    expect(median(late.map((b) => b.tests!.total))).toBeGreaterThan(
      median(early.map((b) => b.tests!.total)) + 500,
    );
    expect(median(late.map(buildSeconds))).toBeGreaterThan(median(early.map(buildSeconds)) * 1.2);
  });

  it('materialises every labelled incident with a failing build and a manual recovery after it', () => {
    for (const incident of history.incidents) {
      expect(incident.firstFailureAt).toBeDefined();
      expect(incident.manualRecoveryAt.getTime()).toBeGreaterThan(incident.firstFailureAt!.getTime());
    }
  });

  it('writes environment faults into the log where the remediation classifier looks for them', () => {
    const faults = history.builds.filter((b) => b.truth.kind === 'env_fault');
    expect(faults.length).toBeGreaterThan(0);
    for (const build of faults) {
      expect(build.status).toBe('FAILED');
      expect(findEnvironmentFaults(renderBuildLog(build).split('\n')).length).toBeGreaterThan(0);
    }
  });

  it('keeps environment-fault signatures out of passing builds', () => {
    const passing = history.builds.filter((b) => b.status === 'SUCCEEDED').slice(0, 200);
    for (const build of passing) expect(findEnvironmentFaults(renderBuildLog(build).split('\n'))).toEqual([]);
  });

  it('lets memory creep up before the exhausted build runs out of memory', () => {
    const exhausted = history.builds.filter((b) => b.truth.incidentId === 'exhaustion');
    const memory = exhausted.map((b) => b.utilization!.memoryPercent);
    expect(memory[memory.length - 1]!).toBeGreaterThan(95);
    expect(memory[0]!).toBeLessThan(70);
    const oom = exhausted.find((b) => b.status === 'FAILED')!;
    expect(renderBuildLog(oom)).toMatch(/exit status 137/);
  });

  it('fails the bad deployment in its canary with the error rate in the log', () => {
    const deploy = history.builds.find((b) => b.truth.kind === 'bad_deploy')!;
    expect(deploy.stageName).toBe('Deploy');
    expect(deploy.failedPhase).toBe('POST_BUILD');
    expect(renderBuildLog(deploy)).toMatch(/Canary FAILED: HTTP 5xx rate \d+\.\d% \(threshold 1\.00%\)/);
  });

  it('rejects an incident on an unknown pipeline', () => {
    expect(() =>
      generateHistory({
        ...SMALL_SCENARIO,
        incidents: [{ id: 'x', kind: 'regression', pipeline: 'nope', day: 1 }],
      }),
    ).toThrow("incident 'x' names unknown pipeline 'nope'");
  });

  it('rejects a bad deployment on a stand-alone project', () => {
    expect(() =>
      generateHistory({
        ...SMALL_SCENARIO,
        incidents: [{ id: 'x', kind: 'bad_deploy', pipeline: 'search-indexer', day: 1 }],
      }),
    ).toThrow(
      "bad_deploy incident 'x' needs a pipeline with a Deploy stage, 'search-indexer' is stand-alone",
    );
  });
});
