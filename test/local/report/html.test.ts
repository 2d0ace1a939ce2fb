import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { replayDataDirectory, ReplayedBuild, ReplayResult, replaySimulation } from '../../../local/replay';
import { REPLAY_TRAINING_SETTINGS } from '../../../local/replay/embedded-model';
import { SimulatedRemediator } from '../../../local/replay/remediation';
import { simulatedSuggester } from '../../../local/replay/suggestions';
import { plural, renderReport } from '../../../local/report/html';
import { computeMetrics, ReportMetrics } from '../../../local/report/metrics';
import { SMALL_SCENARIO } from '../simulation/small-scenario';

/** The report's visible text: markup, the inlined script and the embedded data left out. */
function visibleText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;|&rsquo;/g, "'")
    .replace(/\s+/g, ' ');
}

/** A count of 1 followed by a plural noun ("1 reruns failed", "1 secrets redacted"). */
const WRONG_PLURAL =
  /(?<![\d.,])1 (?:[a-z]+ )?(builds|reruns|rollbacks|notifications|secrets|suggestions|incidents|days|models|causes|executions)\b/;

function render(result: ReplayResult): { html: string; text: string; metrics: ReportMetrics } {
  const metrics = computeMetrics(result);
  const html = renderReport(result, metrics, '/* echarts */');
  return { html, text: visibleText(html), metrics };
}

/** Every statement of how many builds there were agrees with the metrics. */
function expectOneBuildCount(text: string, metrics: ReportMetrics): void {
  const replayed = metrics.buildsReplayed.toLocaleString('en-US');
  const history = metrics.organicBuilds.toLocaleString('en-US');
  expect(text).toContain(`Replayed ${replayed} build`);
  for (const [, n] of text.matchAll(/([\d,]+) from the history/g)) expect(n).toBe(history);
  for (const [, n] of text.matchAll(/of ([\d,]+) history builds?/g)) expect(n).toBe(history);
  for (const [, n] of text.matchAll(/([\d,]+) started by Pipemend/g)) {
    expect(n).toBe(metrics.pipemendBuilds.toLocaleString('en-US'));
  }
  expect(metrics.organicBuilds + metrics.pipemendBuilds).toBe(metrics.buildsReplayed);
}

describe('the report says only what it knows', () => {
  let dir: string;
  let simulated: ReplayResult;
  let fromData: ReplayResult;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pipemend-report-'));
    simulated = await replaySimulation(SMALL_SCENARIO, {
      mode: 'enforce',
      dataLakeDir: path.join(dir, 'lake'),
      warmupDays: 10,
      training: { ...REPLAY_TRAINING_SETTINGS, numTrees: 20 },
      remediator: (ci, lake, mode) => new SimulatedRemediator(ci, { mode, lake, seed: SMALL_SCENARIO.seed }),
      suggester: (ci) => simulatedSuggester(ci, {}).suggester,
    });
    // The simulation's data lake is the layout `pipemend backfill --out` writes.
    fromData = await replayDataDirectory(path.join(dir, 'lake'), {
      mode: 'enforce',
      dataLakeDir: path.join(dir, 'lake-replayed'),
      warmupDays: 10,
      training: { ...REPLAY_TRAINING_SETTINGS, numTrees: 20 },
    });
  }, 600_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('simulation: labelled figures, the remediation mode, one build count, plurals right', () => {
    const { text, metrics } = render(simulated);
    expect(metrics.detection.unknownBecause).toBeNull();
    expect(text).toContain('remediation mode enforce');
    expect(text).toContain(`with ${plural(SMALL_SCENARIO.incidents.length, 'injected incident')}`);
    expect(text).toMatch(/Detection precision/);
    expect(text).not.toMatch(WRONG_PLURAL);
    expect(text).not.toContain('n/a');
    expectOneBuildCount(text, metrics);
    // Suggestions: one row per distinct cause, every suggestion in one of them.
    const suggested = simulated.builds.filter((b) => b.suggestion).length;
    expect(metrics.suggestions.reduce((n, g) => n + g.count, 0)).toBe(suggested);
    expect(text).toContain(
      `${plural(suggested, 'suggestion')} for ${plural(metrics.suggestions.length, 'distinct cause')}`,
    );
  });

  it("simulation: the flaky-tests section lists the replay's rescued builds, its top flaky tests and no quarantine", () => {
    const { text, metrics } = render(simulated);
    const { rescuedBuilds, topTests } = metrics.remediation.flakyTests;
    expect(rescuedBuilds).toBe(
      simulated.builds.filter((b) => b.remediation?.testOutcome === 'rescued-by-rerun').length,
    );
    expect(text).toContain(`${plural(rescuedBuilds, 'build')} rescued by a rerun of the same revision`);
    expect(topTests.length).toBeGreaterThan(0);
    for (const row of topTests) {
      expect(text).toContain(
        `${row.name} ${row.projectName} ${row.reruns} ${row.rescued} ${row.failedAgain}`,
      );
    }
    expect(text).toContain('Quarantines: none. The replay quarantines nothing');
  });

  it('--data: no precision, incidents, mode or remediation it cannot know; cost counted as for the simulation', () => {
    const { html, text, metrics } = render(fromData);
    expect(fromData.source).toBe('data');
    expect(metrics.detection.unknownBecause).toMatch(/no labels/);
    expect(metrics.detection).toMatchObject({ precision: null, buildRecall: null, incidentRecall: null });
    expect(text).not.toMatch(/\b\d+%/);
    expect(text).not.toMatch(/injected|remediation mode|enforce/i);
    expect(text).toContain('no incident labels in your history');
    expect(text).toContain('detection only: no remediation in this run');
    expect(text).not.toMatch(WRONG_PLURAL);
    expectOneBuildCount(text, metrics);
    // The charts of what is unknown are not drawn at all (an empty chart would read as "none").
    for (const id of ['detect', 'mttr', 'actions']) expect(html).not.toContain(`id="${id}"`);

    // The same builds cost the same to collect and to watch: events and custom metrics as in the simulation.
    expect(fromData.counts.distinctMetrics).toBe(simulated.counts.distinctMetrics);
    expect(fromData.counts.metricsEmitted).toBe(simulated.counts.metricsEmitted);
    const cloudWatch = (m: ReportMetrics) => m.cost.lines.find((l) => l.service === 'CloudWatch')!;
    const customMetrics = (m: ReportMetrics) => /^\d+ custom metrics/.exec(cloudWatch(m).usage)?.[0];
    expect(customMetrics(metrics)).toBe(`${simulated.counts.distinctMetrics} custom metrics`);
    expect(customMetrics(computeMetrics(simulated))).toBe(customMetrics(metrics));
    expect(metrics.cost.notCounted.join(' ')).toMatch(/remediation/);
    expect(metrics.cost.lines.find((l) => l.service === 'Step Functions (Standard)')).toMatchObject({
      usage: 'not part of this run',
      monthlyUsd: 0,
    });
  });

  it('a simulation without incidents says precision is unknown, not 0%', () => {
    const { text, metrics } = render({
      ...simulated,
      incidents: [],
      builds: simulated.builds.map(unlabelled),
    });
    expect(metrics.detection.precision).toBeNull();
    expect(metrics.detection.unknownBecause).toBe('no labelled incidents in this history');
    expect(text).toContain('no labelled incidents in this history');
    expect(text).toContain('Simulated pipeline history with no injected incident');
    expect(text).not.toMatch(/precision 0%|\b0% Detection/i);
  });

  it('writes counts of one in the singular', () => {
    const base = simulated.builds.find((b) => b.suggestion)!;
    const one: ReplayedBuild = {
      ...base,
      buildId: 'one',
      remediation: { ...base.remediation!, action: 'RERUN_CLEAN', status: 'FAILED', notifications: 1 },
      suggestion: { ...base.suggestion!, redactedSecrets: 1 },
    };
    const rerun: ReplayedBuild = {
      ...base,
      buildId: 'rerun-of-one',
      status: 'FAILED',
      truth: { kind: 'normal', remediation: 'rerun', remediationOf: 'one' },
    };
    delete (rerun as { suggestion?: unknown }).suggestion;
    delete (rerun as { remediation?: unknown }).remediation;
    const { text } = render({
      ...simulated,
      builds: [one, rerun],
      incidents: simulated.incidents.slice(0, 1),
    });
    expect(text).toContain('1 rerun failed');
    expect(text).toContain('1 notification');
    expect(text).toContain('1 secret redacted');
    expect(text).toContain('1 suggestion for 1 distinct cause');
    expect(text).not.toMatch(WRONG_PLURAL);
  });
});

function unlabelled(build: ReplayedBuild): ReplayedBuild {
  if (!build.truth?.incidentId) return build;
  return {
    ...build,
    truth: { kind: 'normal', ...(build.truth.remediation ? { remediation: build.truth.remediation } : {}) },
  };
}
