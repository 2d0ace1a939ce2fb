import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { SMALL_SCENARIO } from './simulation/small-scenario';
import { TrendSettings } from '../../core/scoring/trend-settings';
import { ReplayedBuild, ReplayResult, replaySimulation } from '../../local/replay';
import { SimulatedRemediator } from '../../local/replay/remediation';
import { simulatedSuggester } from '../../local/replay/suggestions';

async function replay(mode: 'enforce' | 'shadow', dir: string, trend?: TrendSettings): Promise<ReplayResult> {
  return replaySimulation(SMALL_SCENARIO, {
    mode,
    dataLakeDir: path.join(dir, trend ? `${mode}-trend` : mode),
    warmupDays: 10,
    trend,
    remediator: (ci, lake, replayMode) => new SimulatedRemediator(ci, { mode: replayMode, lake }),
    suggester: (ci) => simulatedSuggester(ci).suggester,
  });
}

/** The verdict on the incident's first failed build, which is what remediation acted on. */
function firstFailure(result: ReplayResult, incidentId: string): ReplayedBuild {
  const build = result.builds.find(
    (b) => b.truth?.incidentId === incidentId && !b.truth.remediation && b.status !== 'SUCCEEDED',
  );
  if (!build) throw new Error(`no failed build for ${incidentId}`);
  return build;
}

function startedBy(result: ReplayResult, build: ReplayedBuild): ReplayedBuild[] {
  const ids = new Set(build.remediation?.startedBuildIds ?? []);
  return result.builds.filter((b) => ids.has(b.buildId));
}

describe('replay of the small scenario', () => {
  let dir: string;
  let enforce: ReplayResult;
  let shadow: ReplayResult;

  // Replays and synthesis are CPU-bound: the generous timeout allows for a shared, busy machine.
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pipemend-replay-'));
    enforce = await replay('enforce', dir);
    shadow = await replay('shadow', dir);
  }, 600_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('in enforce mode', () => {
    it('reruns a pipeline build that hit a DNS failure by retrying its stage, and the retry passes', () => {
      const failed = firstFailure(enforce, 'env-dns');
      expect(failed.remediation).toMatchObject({
        action: 'RERUN_CLEAN',
        guard: 'PROCEED',
        status: 'SUCCEEDED',
      });
      const [retry] = startedBy(enforce, failed);
      expect(retry).toMatchObject({
        status: 'SUCCEEDED',
        stageName: 'Build',
        truth: { remediation: 'retry' },
      });
    });

    it('reruns a stand-alone build that hit a network timeout clean, and the rerun passes', () => {
      const failed = firstFailure(enforce, 'env-timeout-standalone');
      expect(failed.remediation).toMatchObject({ action: 'RERUN_CLEAN', status: 'SUCCEEDED' });
      expect(startedBy(enforce, failed)).toMatchObject([
        { status: 'SUCCEEDED', truth: { remediation: 'rerun' } },
      ]);
    });

    it('reruns the first failure of a regression once, then notifies without rerunning again', () => {
      const regression = enforce.builds.filter(
        (b) => b.truth?.incidentId === 'regression' && b.status === 'FAILED' && !b.truth.remediation,
      );
      expect(regression.length).toBeGreaterThan(0);
      const [first, ...later] = regression;
      expect(first!.remediation).toMatchObject({
        action: 'RERUN_CLEAN',
        status: 'FAILED',
        testsBasis: 'first-failure',
        testOutcome: 'failed-again',
      });
      expect(first!.remediation?.reasons[0]).toContain('first failure of these tests');
      expect(startedBy(enforce, first!)).toMatchObject([{ status: 'FAILED' }]);
      for (const build of later) {
        expect(build.remediation).toMatchObject({ action: 'NOTIFY', startedBuildIds: [] });
      }
    });

    it('reruns a build that ran out of memory on the next compute type up, where it passes', () => {
      const failed = firstFailure(enforce, 'exhaustion');
      expect(failed.remediation).toMatchObject({ action: 'RERUN_CLEAN', status: 'SUCCEEDED' });
      expect(failed.remediation?.reasons.join(' ')).toContain('BUILD_GENERAL1_MEDIUM');
      expect(startedBy(enforce, failed)).toMatchObject([{ status: 'SUCCEEDED' }]);
    });

    it('rolls back the deployment whose error rate spiked, and health returns', () => {
      const failed = firstFailure(enforce, 'bad-deploy');
      expect(failed.remediation).toMatchObject({ action: 'ROLLBACK', status: 'SUCCEEDED' });
      expect(failed.remediation?.detail).toMatch(/storefront-5xx-rate is OK/);
      expect(startedBy(enforce, failed)).toMatchObject([
        { status: 'SUCCEEDED', truth: { remediation: 'rollback' } },
      ]);
    });

    it('notifies every distinct failure at least once, and folds repeats of it', () => {
      const notified = new Set(
        enforce.builds
          .filter((b) => (b.remediation?.notifications ?? 0) > 0)
          .map((b) => b.remediation?.fingerprint),
      );
      const folded = enforce.builds.filter((b) => b.remediation?.notificationFolded);
      for (const build of folded) expect(notified).toContain(build.remediation?.fingerprint);
    });

    it('never acts on its own builds', () => {
      const own = enforce.builds.filter((b) => b.truth?.remediation && b.remediation);
      for (const build of own) expect(build.remediation?.startedBuildIds).toEqual([]);
    });

    it('suggests a fix for every failed build from its log', () => {
      const failed = enforce.builds.filter((b) => b.status !== 'SUCCEEDED' && !b.truth?.remediation);
      expect(failed.length).toBeGreaterThan(0);
      for (const build of failed) expect(build.suggestion?.summary).toEqual(expect.any(String));
      expect(firstFailure(enforce, 'exhaustion').suggestion?.summary).toBe('The build ran out of memory');
    });
  });

  describe('in shadow mode', () => {
    it('decides the same actions for the incidents but takes none', () => {
      for (const id of ['env-dns', 'env-timeout-standalone', 'regression', 'exhaustion', 'bad-deploy']) {
        expect(firstFailure(shadow, id).remediation).toMatchObject({
          action: firstFailure(enforce, id).remediation?.action,
          guard: 'SHADOW',
          status: 'SHADOWED',
          startedBuildIds: [],
        });
      }
    });

    it('starts no build at all', () => {
      expect(shadow.builds.filter((b) => b.truth?.remediation)).toEqual([]);
    });
  });

  it('collects every build into the local data lake under the S3 key layout, and trains on it', async () => {
    const projects = await readdir(path.join(dir, 'enforce', 'builds'));
    expect(projects.sort()).toEqual(
      [
        'project=payments-api-build',
        'project=payments-api-deploy',
        'project=search-indexer-build',
        'project=storefront-build',
        'project=storefront-deploy',
      ].sort(),
    );
    expect(enforce.trainings.length).toBeGreaterThan(0);
    expect(enforce.builds.filter((b) => b.scorer === 'embedded').length).toBeGreaterThan(100);
  });

  it("passes the trend settings to the scorer: with the test off, fewer of the creep's successful builds are flagged", async () => {
    const creepFlagged = (result: ReplayResult) =>
      result.builds.filter(
        (b) => b.truth?.incidentId === 'exhaustion' && b.status === 'SUCCEEDED' && b.anomalous,
      ).length;
    const off = await replay('shadow', dir, { features: [] });
    expect(creepFlagged(off)).toBeLessThan(creepFlagged(shadow));
  }, 600_000);
});
