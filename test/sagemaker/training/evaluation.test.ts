import {
  compareWithApproved,
  evaluateScores,
  labelledMetrics,
  parseLabels,
  parseRcfScores,
  scoreDistribution,
} from '../../../sagemaker/training/evaluation';

describe('scoreDistribution', () => {
  test('reports the mean and population standard deviation of the scores', () => {
    expect(scoreDistribution([1, 2, 3, 4, 5])).toMatchObject({ count: 5, mean: 3, std: Math.sqrt(2) });
  });

  test('the threshold is three robust standard deviations (1.4826 MAD) above the median log score', () => {
    // Log scores -1, -0.5, 0, 0.5, 1: median 0, MAD 0.5.
    const scores = [-1, -0.5, 0, 0.5, 1].map(Math.exp);
    expect(scoreDistribution(scores).threshold).toBeCloseTo(Math.exp(3 * 1.4826 * 0.5), 10);
  });

  test('a few extreme scores among the calibration scores do not move the threshold', () => {
    const ordinary = Array.from({ length: 100 }, (_, i) => 1 + (i % 10) * 0.05);
    const withIncident = [...ordinary.slice(3), 20, 30, 40];
    const change = scoreDistribution(withIncident).threshold / scoreDistribution(ordinary).threshold;
    expect(Math.abs(change - 1)).toBeLessThan(0.05);
  });

  test('scores of 0 (a forest not yet scoring) are left out of the threshold', () => {
    expect(scoreDistribution([0, 0, 1, 2, 3]).threshold).toBeCloseTo(
      scoreDistribution([1, 2, 3]).threshold,
      10,
    );
  });

  test('refuses scores that are all 0', () => {
    expect(() => scoreDistribution([0, 0])).toThrow('cannot compute a threshold from scores that are all 0');
  });

  test('refuses an empty score list', () => {
    expect(() => scoreDistribution([])).toThrow('cannot compute a score distribution from no scores');
  });
});

describe('labelledMetrics', () => {
  const scored = [
    { buildId: 'a', score: 5 },
    { buildId: 'b', score: 5 },
    { buildId: 'c', score: 1 },
    { buildId: 'd', score: 1 },
    { buildId: 'unlabelled', score: 9 },
  ];

  test('counts flagged builds against the labels, unlabelled builds counting as normal', () => {
    const labels = new Map([
      ['a', true],
      ['b', false],
      ['c', true],
      ['d', false],
    ]);
    expect(labelledMetrics(scored, labels, 2)).toEqual({
      labelledBuilds: 4,
      truePositives: 1,
      falsePositives: 2,
      falseNegatives: 1,
      precision: 1 / 3,
      recall: 0.5,
    });
  });

  test('precision and recall are null when undefined rather than 0', () => {
    expect(labelledMetrics(scored, new Map([['d', false]]), 2)).toMatchObject({
      precision: null,
      recall: null,
    });
  });
});

test('evaluateScores computes labelled metrics at the distribution threshold', () => {
  const scored = Array.from({ length: 100 }, (_, i) => ({
    buildId: `b${i}`,
    score: i === 99 ? 50 : 1 + (i % 3) * 0.1,
  }));
  const quality = evaluateScores(
    scored,
    new Map([
      ['b99', true],
      ['b1', false],
    ]),
  );
  expect(quality.labelled).toMatchObject({ truePositives: 1, falsePositives: 0, precision: 1, recall: 1 });
});

test('evaluateScores takes the threshold from the calibration scores when given', () => {
  const scored = [{ buildId: 'x', score: 2 }];
  const calibration = Array.from({ length: 50 }, (_, i) => 1 + (i % 5) * 0.01);
  const quality = evaluateScores(scored, new Map([['x', true]]), calibration);
  expect(quality.distribution.threshold).toBeCloseTo(scoreDistribution(calibration).threshold, 10);
  expect(quality.labelled).toMatchObject({ truePositives: 1, recall: 1 });
});

describe('compareWithApproved', () => {
  const good = { precision: 0.9, recall: 0.8, labelledBuilds: 40 };

  test('passes the first model', () => {
    expect(compareWithApproved(good, undefined, 0.02)).toEqual({
      noWorse: true,
      reason: 'no approved model version yet',
    });
  });

  test('rejects a candidate whose F1 falls more than the tolerance below the approved one', () => {
    const result = compareWithApproved({ precision: 0.5, recall: 0.5, labelledBuilds: 40 }, good, 0.02);
    expect(result).toEqual({
      noWorse: false,
      reason: 'candidate F1 0.500 < approved F1 0.847 - tolerance 0.02',
    });
  });

  test('accepts a candidate within the tolerance', () => {
    expect(
      compareWithApproved({ precision: 0.88, recall: 0.8, labelledBuilds: 40 }, good, 0.02).noWorse,
    ).toBe(true);
  });

  test('passes, saying why, when there are no labels to compare on', () => {
    expect(compareWithApproved({ precision: null, recall: null, labelledBuilds: 0 }, good, 0.02)).toEqual({
      noWorse: true,
      reason: 'not comparable on labels (candidate F1 unknown, approved F1 0.847)',
    });
  });
});

describe('parseLabels', () => {
  test('reads single objects, arrays and JSON lines, counting what it skips', () => {
    const { labels, skipped } = parseLabels([
      '{"buildId":"a","anomalous":true}',
      '[{"buildId":"b","label":"normal"},{"buildId":"c"}]',
      '{"buildId":"d","anomalous":false}\n{"buildId":"a","anomalous":false}\nnot json',
    ]);
    expect([...labels.entries()]).toEqual([
      ['a', false],
      ['b', false],
      ['d', false],
    ]);
    expect(skipped).toBe(2);
  });
});

describe('parseRcfScores', () => {
  test('reads one score per JSON line', () => {
    expect(parseRcfScores('{"score":0.5}\n{"score":1.25}\n')).toEqual([0.5, 1.25]);
  });

  test('reads the application/json response shape too', () => {
    expect(parseRcfScores('{"scores":[{"score":0.5},{"score":2}]}')).toEqual([0.5, 2]);
  });

  test('names the line that has no score', () => {
    expect(() => parseRcfScores('{"score":1}\n{"nope":1}')).toThrow(
      'RCF output line 2 has no numeric score: {"nope":1}',
    );
  });
});
