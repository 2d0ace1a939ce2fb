/**
 * The replay's suggestions against the actions remediation took on the same builds: a suggestion never
 * advises what Pipemend decided against, and a test failure's suggestion names the test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { SMALL_SCENARIO } from './simulation/small-scenario';
import { ReplayedBuild, replaySimulation } from '../../local/replay';
import { SimulatedRemediator } from '../../local/replay/remediation';
import { simulatedSuggester } from '../../local/replay/suggestions';

/** Advice to rerun, as the offline suggester words it ("…: rerun; if it recurs…", "then rerun", …). */
const RERUN_ADVICE = /(?::\s*rerun\b|then rerun\b|^rerun\b|\brerun later\b|clean rerun usually passes)/i;

let dir: string;
let suggested: ReplayedBuild[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pipemend-replay-suggestions-'));
  const result = await replaySimulation(SMALL_SCENARIO, {
    mode: 'enforce',
    dataLakeDir: path.join(dir, 'lake'),
    warmupDays: 10,
    remediator: (ci, lake, mode) => new SimulatedRemediator(ci, { mode, lake }),
    suggester: (ci) => simulatedSuggester(ci).suggester,
  });
  suggested = result.builds.filter((build) => build.suggestion);
}, 600_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the scenario gives suggestions next to every kind of action', () => {
  const actions = new Set(suggested.map((build) => build.remediation?.action));
  expect([...actions].sort()).toEqual(expect.arrayContaining(['NOTIFY', 'RERUN_CLEAN', 'ROLLBACK']));
});

test('no suggestion advises a rerun on a build remediation decided not to rerun', () => {
  const contradicting = suggested
    .filter((build) => build.remediation && build.remediation.action !== 'RERUN_CLEAN')
    .filter((build) => RERUN_ADVICE.test(build.suggestion?.suggestedFix ?? ''))
    .map((build) => `${build.buildId} (${build.remediation?.action}): ${build.suggestion?.suggestedFix}`);
  expect(contradicting).toEqual([]);
});

test('a rolled-back deployment is explained as one', () => {
  const rolledBack = suggested.filter((build) => build.remediation?.action === 'ROLLBACK');
  expect(rolledBack.length).toBeGreaterThan(0);
  for (const build of rolledBack) {
    expect(build.suggestion?.summary).toMatch(/^The deployment was unhealthy and was rolled back/);
  }
});

test('every test-failure suggestion names the failing test', () => {
  const tests = suggested.filter((build) => build.suggestion?.category === 'test-failure');
  expect(tests.length).toBeGreaterThan(0);
  const unnamed = tests
    .filter((build) => !/^Tests failed: \S/.test(build.suggestion?.summary ?? ''))
    .map((build) => `${build.buildId}: ${build.suggestion?.summary}`);
  expect(unnamed).toEqual([]);
});
