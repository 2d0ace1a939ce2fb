import { FEATURE_DIMENSION, featureRowKey } from '../../../core/collection/build-record';
import {
  assembleTrainingWindow,
  FeatureRow,
  InsufficientTrainingDataError,
  MalformedFeatureRowError,
  parseFeatureCsv,
  parseFeatureRowKey,
  toTrainingCsv,
  windowStartDate,
} from '../../../sagemaker/training/window';

function row(projectName: string, index: number, date: string, duration: number): FeatureRow {
  const values = Array.from({ length: FEATURE_DIMENSION }, () => 10);
  values[0] = duration;
  return { projectName, buildId: `${projectName}:${index}`, date, values };
}

function rows(
  projectName: string,
  count: number,
  duration: (i: number) => number,
  date = '2026-11-20',
): FeatureRow[] {
  return Array.from({ length: count }, (_, i) => row(projectName, i, date, duration(i)));
}

const options = { minTrainingRows: 10, minBuildsPerProject: 5, evaluationFrom: '2026-11-15' };

describe('parseFeatureRowKey', () => {
  test('reads project, date and build id from a feature-row key', () => {
    expect(parseFeatureRowKey('features/project=api%2Fbuild/date=2026-11-20/api%2Fbuild:abc-1.csv')).toEqual({
      projectName: 'api/build',
      date: '2026-11-20',
      buildId: 'api/build:abc-1',
    });
  });

  test('reads back exactly what the collector’s featureRowKey writes', () => {
    const record = {
      projectName: 'mono/api',
      endTime: '2026-11-20T23:59:59Z',
      buildId: 'mono/api:5f0c-1a9e',
    };
    expect(parseFeatureRowKey(featureRowKey(record))).toEqual({
      projectName: 'mono/api',
      date: '2026-11-20',
      buildId: 'mono/api:5f0c-1a9e',
    });
  });

  test('ignores keys outside the feature-row layout', () => {
    expect(parseFeatureRowKey('features/project=api/readme.txt')).toBeUndefined();
  });
});

describe('parseFeatureCsv', () => {
  test('parses one row of FEATURE_DIMENSION numbers', () => {
    expect(parseFeatureCsv('k', '1,2,3,4,5,6,7,8,9,0.5,50,60\n')).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 0.5, 50, 60,
    ]);
  });

  test('names the key and the count when the row has the wrong width', () => {
    expect(() => parseFeatureCsv('features/x.csv', '1,2,3')).toThrow(
      new MalformedFeatureRowError('features/x.csv: expected 12 comma-separated values, found 3'),
    );
  });

  test('names the value that is not a number', () => {
    expect(() => parseFeatureCsv('k', '1,2,3,4,5,six,7,8,9,0,1,2')).toThrow(
      "k: value 6 ('six') is not a finite number",
    );
  });
});

describe('windowStartDate', () => {
  test('a 90-day window ending on 2026-11-21 starts on 2026-08-24', () => {
    expect(windowStartDate(new Date('2026-11-21T20:00:00Z'), 90)).toBe('2026-08-24');
  });
});

describe('assembleTrainingWindow', () => {
  test('normalises each project with its own baseline so one model serves both', () => {
    const window = assembleTrainingWindow(
      [...rows('fast', 10, (i) => 60 + i), ...rows('slow', 10, (i) => 600 + 10 * i)],
      options,
    );
    expect(Object.keys(window.baselines)).toEqual(['fast', 'slow']);
    expect(window.baselines.fast!.median[0]).toBe(64.5);
    expect(window.baselines.slow!.median[0]).toBe(645);
    // The median build of each project lands near 0 on the shared scale.
    const middle = window.training.find((r) => r.buildId === 'slow:5')!;
    expect(Math.abs(middle.normalized[0]!)).toBeLessThan(0.2);
  });

  test('leaves projects with too few builds to the baseline scorer and reports them', () => {
    const window = assembleTrainingWindow(
      [...rows('big', 12, (i) => i), ...rows('tiny', 3, (i) => i)],
      options,
    );
    expect(window.excludedProjects).toEqual({ tiny: 3 });
    expect(window.training).toHaveLength(12);
  });

  test('the evaluation set is the rows since evaluationFrom', () => {
    const window = assembleTrainingWindow(
      [
        ...rows('api', 8, (i) => i, '2026-10-01'),
        ...rows('api', 4, (i) => i, '2026-11-16').map((r, i) => ({ ...r, buildId: `new:${i}` })),
      ],
      options,
    );
    expect(window.evaluation.map((r) => r.buildId)).toEqual(['new:0', 'new:1', 'new:2', 'new:3']);
  });

  test('fails with the counts and the minimum when there are too few rows', () => {
    expect(() =>
      assembleTrainingWindow(
        rows('api', 6, (i) => i),
        options,
      ),
    ).toThrow(
      new InsufficientTrainingDataError(
        'The training window has 6 usable feature rows from 1 projects (6 rows read, 0 projects below 5 builds left out); ' +
          'at least 10 are required. Collect more build history or lower the minimum.',
      ),
    );
  });

  test('fails when no recent build is left to evaluate on', () => {
    expect(() =>
      assembleTrainingWindow(
        rows('api', 12, (i) => i, '2026-10-01'),
        options,
      ),
    ).toThrow(/no builds since 2026-11-15 to evaluate the model on/);
  });
});

describe('toTrainingCsv', () => {
  test('writes one headerless, label-free line per row', () => {
    const csv = toTrainingCsv([
      { projectName: 'a', buildId: 'a:1', date: '2026-11-20', normalized: [0.1234567, -2] },
      { projectName: 'a', buildId: 'a:2', date: '2026-11-20', normalized: [1, 0] },
    ]);
    expect(csv).toBe('0.123457,-2\n1,0\n');
  });
});
