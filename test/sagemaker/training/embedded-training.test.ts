import { FEATURE_DIMENSION } from '../../../core/collection/build-record';
import { RandomCutForest, SerializedForest } from '../../../sagemaker/rcf';
import {
  EmbeddedTrainingSettings,
  TrainingStore,
  trainEmbeddedModel,
} from '../../../sagemaker/training/embedded-training';
import { FeatureRow } from '../../../sagemaker/training/window';

const settings: EmbeddedTrainingSettings = {
  windowDays: 90,
  evaluationDays: 7,
  minTrainingRows: 100,
  minBuildsPerProject: 10,
  numTrees: 50,
  sampleSize: 64,
  seed: 7,
  noWorseTolerance: 0.02,
};
const now = new Date('2026-11-21T20:00:00.000Z');

/** 240 ordinary builds over 60 days (the last 28 in the evaluation week) and one 10× slower recent build. */
function history(): FeatureRow[] {
  const rows: FeatureRow[] = [];
  for (let i = 0; i < 240; i++) {
    const day = new Date(now.getTime() - (59 - Math.floor(i / 4)) * 86_400_000).toISOString().slice(0, 10);
    const values = Array.from({ length: FEATURE_DIMENSION }, (_, f) => 20 + ((i * (f + 3)) % 7));
    rows.push({ projectName: 'api', buildId: `api:${String(i).padStart(3, '0')}`, date: day, values });
  }
  const slow = Array.from({ length: FEATURE_DIMENSION }, () => 23);
  slow[0] = 400;
  slow[6] = 380;
  rows.push({ projectName: 'api', buildId: 'api:slow', date: '2026-11-21', values: slow });
  return rows;
}

class MemoryStore implements TrainingStore {
  readonly objects = new Map<string, unknown>();
  constructor(
    private readonly rows: FeatureRow[],
    private readonly labels: string[] = [],
  ) {}
  async readFeatureRows(fromDate: string) {
    return { rows: this.rows.filter((r) => r.date >= fromDate), malformed: [] };
  }
  async readLabelTexts() {
    return this.labels;
  }
  async readJson(key: string) {
    return this.objects.get(key) ?? null;
  }
  async writeJson(key: string, value: unknown) {
    this.objects.set(key, JSON.parse(JSON.stringify(value)));
  }
}

const version = '2026-11-21T20-00-00Z';

test('trains, stores the forest and manifest, and promotes the first model to current', async () => {
  const store = new MemoryStore(history(), [JSON.stringify({ buildId: 'api:slow', anomalous: true })]);
  const result = await trainEmbeddedModel(store, settings, now);
  expect(result).toMatchObject({ modelVersion: version, trainingRows: 241, promoted: true });
  const manifest = store.objects.get('models/current.json');
  expect(manifest).toEqual(store.objects.get(`models/${version}/manifest.json`));
  expect(manifest).toMatchObject({
    kind: 'embedded',
    artifactKey: `models/${version}/forest.json`,
    trainingRows: 241,
    minBuildsPerProject: 10,
    baselines: { api: { count: 241 } },
  });
  const forest = RandomCutForest.fromJSON(
    store.objects.get(`models/${version}/forest.json`) as SerializedForest,
  );
  expect(forest.options.numTrees).toBe(50);
});

test('the labelled slow build is caught: recall 1 on the recent builds', async () => {
  const store = new MemoryStore(history(), [JSON.stringify({ buildId: 'api:slow', anomalous: true })]);
  const result = await trainEmbeddedModel(store, settings, now);
  const evaluation = store.objects.get(`models/${version}/evaluation.json`) as {
    labelled: { recall: number };
  };
  expect(evaluation.labelled.recall).toBe(1);
  expect(result.evaluationRows).toBe(29);
});

test('a model worse than the current one on the labels is stored but not promoted', async () => {
  // A label on an ordinary build: the new model misses it and flags the unlabelled slow build (F1 0).
  const store = new MemoryStore(history(), [JSON.stringify({ buildId: 'api:239', anomalous: true })]);
  store.objects.set('models/current.json', { modelVersion: 'old' });
  store.objects.set('models/old/evaluation.json', {
    labelled: { precision: 1, recall: 1, labelledBuilds: 3 },
  });
  const result = await trainEmbeddedModel(store, settings, now);
  expect(result).toMatchObject({
    promoted: false,
    reason: 'candidate F1 0.000 < approved F1 1.000 - tolerance 0.02',
  });
  expect(store.objects.get('models/current.json')).toEqual({ modelVersion: 'old' });
  expect(store.objects.has(`models/${version}/forest.json`)).toBe(true);
});

test('the current embedded forest is judged on the candidate’s recent builds, not on its recorded week', async () => {
  const store = new MemoryStore(history(), [JSON.stringify({ buildId: 'api:slow', anomalous: true })]);
  await trainEmbeddedModel(store, settings, new Date(now.getTime() - 60_000));
  const current = (store.objects.get('models/current.json') as { modelVersion: string }).modelVersion;
  // Its own week had nothing labelled; on the candidate's week it catches the slow build too.
  store.objects.set(`models/${current}/evaluation.json`, {
    labelled: { precision: 0, recall: 0, labelledBuilds: 3 },
  });
  const result = await trainEmbeddedModel(store, settings, now);
  const evaluation = store.objects.get(`models/${version}/evaluation.json`) as {
    current: { recall: number };
  };
  expect(evaluation.current.recall).toBe(1);
  expect(result.promoted).toBe(true);
});

test('refuses to train on too little history, saying how much there is', async () => {
  await expect(trainEmbeddedModel(new MemoryStore(history().slice(0, 50)), settings, now)).rejects.toThrow(
    /has 50 usable feature rows .* at least 100 are required/,
  );
});
