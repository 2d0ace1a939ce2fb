import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { ProjectBaseline } from '../../../core/scoring/baseline';
import { assembleWindow } from '../../../lambda/training-window/handler';
import { S3TrainingData } from '../../../sagemaker/training/s3-training-data';
import { FakeLake } from '../../sagemaker/training/fake-lake';

const now = () => new Date('2026-11-21T12:00:00Z');
const request = {
  executionId: 'Ab12cd34ef56',
  windowDays: '90',
  evaluationDays: 7,
  minTrainingRows: 20,
  minBuildsPerProject: 5,
};

function featureCsv(duration: number): string {
  return [duration, ...Array.from({ length: FEATURE_DIMENSION - 1 }, () => 3)].join(',') + '\n';
}

function seed(
  lake: FakeLake,
  project: string,
  date: string,
  count: number,
  duration: (i: number) => number,
): void {
  for (let i = 0; i < count; i++) {
    lake.put(`features/project=${project}/date=${date}/${project}:${date}-${i}.csv`, featureCsv(duration(i)));
  }
}

function setup(pageSize = 1000) {
  const lake = new FakeLake(pageSize);
  const deps = { data: new S3TrainingData(lake.s3, 'lake'), bucket: 'lake', now };
  return { lake, deps };
}

test('writes the normalised training CSV, the recent evaluation CSV, its index and the baselines', async () => {
  const { lake, deps } = setup(7);
  seed(lake, 'api', '2026-10-01', 15, (i) => 100 + i);
  seed(lake, 'api', '2026-11-18', 5, (i) => 100 + i);
  seed(lake, 'web', '2026-11-20', 6, (i) => 30 + i);

  const result = await assembleWindow(request, deps);

  expect(result).toEqual({
    modelVersion: 'sm-ab12cd34ef56',
    trainS3Uri: 's3://lake/training/sm-ab12cd34ef56/train/',
    evaluationS3Uri: 's3://lake/training/sm-ab12cd34ef56/evaluation/',
    trainingRows: 26,
    evaluationRows: 11,
    projects: 2,
  });
  const train = lake.objects.get('training/sm-ab12cd34ef56/train/train.csv')!.trim().split('\n');
  expect(train).toHaveLength(26);
  expect(train.every((line) => line.split(',').length === FEATURE_DIMENSION)).toBe(true);
  expect(lake.json('training/sm-ab12cd34ef56/evaluation-index.json')).toEqual([
    ...Array.from({ length: 5 }, (_, i) => `api:2026-11-18-${i}`),
    ...Array.from({ length: 6 }, (_, i) => `web:2026-11-20-${i}`),
  ]);
  expect(lake.json('training/sm-ab12cd34ef56/window.json')).toMatchObject({
    from: '2026-08-24',
    trainingRows: 26,
    baselines: { api: { count: 20 }, web: { count: 6 } },
  });
});

test('ignores rows older than the window', async () => {
  const { lake, deps } = setup();
  seed(lake, 'api', '2026-08-23', 50, () => 100);
  seed(lake, 'api', '2026-11-20', 20, () => 100);
  expect((await assembleWindow(request, deps)).trainingRows).toBe(20);
});

test('skips a malformed row, records it in the window and trains on the rest', async () => {
  const { lake, deps } = setup();
  seed(lake, 'api', '2026-11-20', 20, () => 100);
  lake.put('features/project=api/date=2026-11-20/api:broken.csv', '1,2,3');
  await assembleWindow(request, deps);
  expect(lake.json('training/sm-ab12cd34ef56/window.json')).toMatchObject({
    trainingRows: 20,
    malformedRows: [
      'features/project=api/date=2026-11-20/api:broken.csv: expected 12 comma-separated values, found 3',
    ],
  });
});

test('fails the step with the counts when the window is too small', async () => {
  const { lake, deps } = setup();
  seed(lake, 'api', '2026-11-20', 8, () => 100);
  await expect(assembleWindow(request, deps)).rejects.toThrow(
    'The training window has 8 usable feature rows from 1 projects (8 rows read, 0 projects below 5 builds left out); at least 20 are required.',
  );
});

test('names the argument that is wrong', async () => {
  const { deps } = setup();
  await expect(assembleWindow({ ...request, windowDays: 'ninety' }, deps)).rejects.toThrow(
    /Invalid AssembleWindow arguments: .*windowDays/s,
  );
});

test('with the compacted source, trains on the sample rows and its baselines instead of the per-build CSVs', async () => {
  const { lake, deps } = setup();
  seed(lake, 'api', '2026-11-20', 50, () => 999);
  const values = (duration: number) => [duration, ...Array.from({ length: FEATURE_DIMENSION - 1 }, () => 3)];
  const rows = Array.from({ length: 25 }, (_, i) => ({
    projectName: 'api',
    buildId: `api:s${String(i).padStart(2, '0')}`,
    date: '2026-11-19',
    values: values(100 + i),
  }));
  const baseline: ProjectBaseline = { projectName: 'api', count: 4000, median: values(110), mad: values(5) };
  const asked: [string, number][] = [];
  const result = await assembleWindow(request, {
    ...deps,
    readSample: async (fromDate, minBuildsPerProject) => {
      asked.push([fromDate, minBuildsPerProject]);
      return {
        rows,
        baselines: { api: baseline },
        projectBuilds: { api: 9000 },
        malformed: [],
        sampledRows: 4000,
      };
    },
  });
  expect(asked).toEqual([['2026-08-24', 5]]);
  expect(result).toMatchObject({ trainingRows: 25, evaluationRows: 25, projects: 1 });
  expect(lake.json('training/sm-ab12cd34ef56/window.json')).toMatchObject({
    source: 'compacted',
    sampledRows: 4000,
    baselines: { api: { count: 4000 } },
  });
});
