import { toFeatureVector } from '../../../core/collection/build-record';
import { normalize } from '../../../core/scoring/baseline';
import { ModelScorer, scoreBuild, ScoringPorts } from '../../../core/scoring/score-build';
import { BUILD_ID, buildRecord, manifest, PROJECT, projectBaseline } from '../../lambda/scorer/fixtures';

const decidedAt = new Date('2026-11-21T20:00:05Z');

function ports(
  overrides: Partial<ScoringPorts> = {},
): ScoringPorts & { modelScorer: jest.Mocked<ModelScorer> } {
  return {
    manifests: { current: jest.fn().mockResolvedValue(manifest()) },
    history: { baseline: jest.fn().mockResolvedValue(projectBaseline()) },
    modelKind: 'endpoint',
    modelScorer: { score: jest.fn().mockResolvedValue({ score: 1.1 }) },
    now: () => decidedAt,
    ...overrides,
  } as ScoringPorts & { modelScorer: jest.Mocked<ModelScorer> };
}

describe('scoreBuild', () => {
  test('cold start: without a model the project history baseline decides and the verdict says so', async () => {
    const p = ports({ manifests: { current: jest.fn().mockResolvedValue(null) } });
    const { verdict, baselineReason } = await scoreBuild(buildRecord({}, 2), p);
    expect(p.history.baseline).toHaveBeenCalledWith(PROJECT, BUILD_ID);
    expect(p.modelScorer.score).not.toHaveBeenCalled();
    expect(baselineReason).toBe('no-model');
    expect(verdict).toMatchObject({ scorer: 'baseline', modelVersion: null, verdict: 'ANOMALOUS' });
    expect(verdict.explanation[0]?.feature).toMatch(/^(buildSeconds|durationSeconds)$/);
  });

  test('cold start: a project with too few builds in the model falls back to its baseline', async () => {
    const p = ports({
      manifests: { current: jest.fn().mockResolvedValue(manifest({ minBuildsPerProject: 1000 })) },
    });
    const { verdict, baselineReason } = await scoreBuild(buildRecord(), p);
    expect(baselineReason).toBe('too-few-project-builds');
    expect(verdict).toMatchObject({ scorer: 'baseline', verdict: 'NORMAL' });
  });

  test('the model scores the project-normalised features, against the manifest threshold', async () => {
    const p = ports();
    const record = buildRecord();
    const { verdict } = await scoreBuild(record, p);
    const current = manifest();
    expect(p.modelScorer.score).toHaveBeenCalledWith(
      current,
      normalize(toFeatureVector(record).values, current.baselines[PROJECT]!),
    );
    expect(p.history.baseline).not.toHaveBeenCalled();
    expect(verdict).toMatchObject({
      scorer: 'endpoint',
      score: 1.1,
      threshold: 2.5,
      modelVersion: current.modelVersion,
      verdict: 'NORMAL',
      decidedAt: decidedAt.toISOString(),
    });
  });

  test('an embedded model explains with its attribution', async () => {
    const attribution = [1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0];
    const p = ports({
      modelKind: 'embedded',
      manifests: {
        current: jest.fn().mockResolvedValue(manifest({ kind: 'embedded', artifactKey: 'm/f.json' })),
      },
      modelScorer: { score: jest.fn().mockResolvedValue({ score: 4, attribution }) },
    });
    const { verdict } = await scoreBuild(buildRecord({}, 2), p);
    expect(verdict).toMatchObject({ scorer: 'embedded', anomalous: true });
    expect(verdict.explanation.map((c) => [c.feature, c.share])).toEqual([
      ['buildSeconds', 0.75],
      ['durationSeconds', 0.25],
    ]);
  });

  test('a model failure propagates to the caller (which decides how the pipeline answers)', async () => {
    const p = ports({ modelScorer: { score: jest.fn().mockRejectedValue(new Error('throttled')) } });
    await expect(scoreBuild(buildRecord(), p)).rejects.toThrow('throttled');
  });
});
