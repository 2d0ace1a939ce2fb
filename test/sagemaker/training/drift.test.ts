import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { computeBaseline } from '../../../core/scoring/baseline';
import { detectDrift, detectProjectDrift, recentProjectsOfSample } from '../../../sagemaker/training/drift';
import { WindowSampleAccumulator } from '../../../sagemaker/training/parquet-window';
import { FeatureRow } from '../../../sagemaker/training/window';

const vector = (duration: number, i: number) =>
  Array.from({ length: FEATURE_DIMENSION }, (_, f) => (f === 0 ? duration : 10 + (i % 3)));
const trainedOn = Array.from({ length: 100 }, (_, i) => vector(300 + (i % 21) - 10, i));
const baselines = { api: computeBaseline('api', trainedOn) };
const recent = (project: string, count: number, duration: number): FeatureRow[] =>
  Array.from({ length: count }, (_, i) => ({
    projectName: project,
    buildId: `${project}:${i}`,
    date: '2026-11-20',
    values: vector(duration + (i % 5), i),
  }));
const options = { minRecentBuilds: 10, shiftThreshold: 1.5 };

test('builds like the training builds are no drift', () => {
  expect(detectDrift(recent('api', 20, 298), baselines, options)).toEqual({
    drifted: false,
    shifts: [],
    newProjects: [],
    projectsChecked: 1,
  });
});

test('builds that got much longer drift on duration, measured in robust standard deviations', () => {
  const report = detectDrift(recent('api', 20, 420), baselines, options);
  expect(report.drifted).toBe(true);
  expect(report.shifts.map((s) => s.feature)).toEqual(['durationSeconds']);
  expect(report.shifts[0]!.shift).toBeGreaterThan(5);
});

test('a project the model has never seen counts once it has enough builds', () => {
  expect(detectDrift(recent('new', 12, 50), baselines, options).newProjects).toEqual(['new']);
  expect(detectDrift(recent('new', 3, 50), baselines, options).drifted).toBe(false);
});

test('a project read whole in the compacted sample drifts exactly as its per-build rows do', () => {
  const rows = [...recent('api', 20, 420), ...recent('new', 12, 50), ...recent('tiny', 3, 50)];
  const accumulator = new WindowSampleAccumulator(options.minRecentBuilds);
  for (const project of ['api', 'new', 'tiny']) {
    const own = rows.filter((r) => r.projectName === project);
    for (const r of own) {
      accumulator.add({
        project,
        date: r.date,
        buildId: r.buildId,
        values: r.values,
        projectBuilds: own.length,
        inForest: false,
      });
    }
  }
  expect(detectProjectDrift(recentProjectsOfSample(accumulator.finish()), baselines, options)).toEqual(
    detectDrift(rows, baselines, options),
  );
});
