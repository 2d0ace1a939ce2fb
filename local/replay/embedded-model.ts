/**
 * Pipemend's embedded model, locally: the embedded trainer (the same code as the trainer Lambda) on the local
 * data lake, and the scoring core's manifest and model ports read from that data lake exactly as the scorer
 * Lambda reads S3: `models/current.json`, then the forest at the manifest's artifact key.
 */
import { BuildRecord, FEATURE_DIMENSION } from '../../core/collection/build-record';
import { computeBaseline, ProjectBaseline } from '../../core/scoring/baseline';
import { CURRENT_MODEL_MANIFEST_KEY, ModelManifest } from '../../core/scoring/model-manifest';
import { ModelManifestSource, ModelScore, ModelScorer, ProjectHistory } from '../../core/scoring/score-build';
import {
  selectTrendHistory,
  TREND_HISTORY,
  TrendPoint,
  trendPointOf,
  utcDaysBetween,
} from '../../core/scoring/trend';
import { RandomCutForest, SerializedForest } from '../../sagemaker/rcf';
import {
  EmbeddedTrainingResult,
  EmbeddedTrainingSettings,
  TrainingStore,
  trainEmbeddedModel,
} from '../../sagemaker/training/embedded-training';
import { FeatureRow, parseFeatureCsv, parseFeatureRowKey } from '../../sagemaker/training/window';
import { CompactedTrainingStore } from '../duckdb-training-store';

/** The local data lake as the replay uses it: the collector's store plus a key listing. */
export interface LocalLake {
  /** The directory the lake's keys live in, when it is one: training then reads compacted Parquet from it. */
  readonly root?: string;
  put(key: string, body: string, contentType: string): Promise<void>;
  get(key: string): Promise<string | undefined>;
  list(prefix: string): Promise<string[]>;
}

/**
 * The trainer Lambda's defaults, except a smaller minimum so a short warm-up can train and 50 trees instead
 * of 100, which keeps the fifteen weekly retrainings of the default replay within its time budget.
 */
export const REPLAY_TRAINING_SETTINGS: EmbeddedTrainingSettings = {
  windowDays: 90,
  evaluationDays: 7,
  minTrainingRows: 300,
  minBuildsPerProject: 20,
  numTrees: 50,
  sampleSize: 256,
  seed: 42,
  noWorseTolerance: 0.02,
};

/** The embedded trainer's store on the local data lake; feature rows are parsed once and cached. */
export class LocalTrainingStore implements TrainingStore {
  private readonly rows = new Map<string, FeatureRow>();
  private readonly malformed = new Map<string, string>();

  constructor(private readonly lake: LocalLake) {}

  async readFeatureRows(fromDate: string): Promise<{ rows: FeatureRow[]; malformed: string[] }> {
    for (const key of await this.lake.list('features/')) {
      if (this.rows.has(key) || this.malformed.has(key)) continue;
      const parsed = parseFeatureRowKey(key);
      const body = await this.lake.get(key);
      if (!parsed || body === undefined) continue;
      try {
        this.rows.set(key, { ...parsed, values: parseFeatureCsv(key, body) });
      } catch (error) {
        this.malformed.set(key, (error as Error).message);
      }
    }
    return {
      rows: [...this.rows.values()].filter((row) => row.date >= fromDate),
      malformed: [...this.malformed.values()],
    };
  }

  async readLabelTexts(): Promise<string[]> {
    const texts: string[] = [];
    for (const key of await this.lake.list('labels/')) {
      const text = await this.lake.get(key);
      if (text !== undefined) texts.push(text);
    }
    return texts;
  }

  async readJson(key: string): Promise<unknown> {
    const text = await this.lake.get(key);
    return text === undefined ? null : (JSON.parse(text) as unknown);
  }

  async writeJson(key: string, value: unknown): Promise<void> {
    await this.lake.put(key, JSON.stringify(value), 'application/json');
  }
}

/** The scorer's view of the embedded model: the current manifest and its forest, from the local data lake. */
export class LocalEmbeddedModel implements ModelManifestSource, ModelScorer {
  private readonly store: TrainingStore;
  private manifest: ModelManifest | null = null;
  private loaded: { readonly modelVersion: string; readonly forest: RandomCutForest } | undefined;

  constructor(
    private readonly lake: LocalLake,
    private readonly settings: EmbeddedTrainingSettings = REPLAY_TRAINING_SETTINGS,
  ) {
    const objects = new LocalTrainingStore(lake);
    this.store = lake.root ? new CompactedTrainingStore(objects, lake.root) : objects;
  }

  /** Runs the embedded trainer as its weekly schedule would at `now`; the scorer then reloads the manifest. */
  async train(now: Date): Promise<EmbeddedTrainingResult> {
    const result = await trainEmbeddedModel(this.store, this.settings, now);
    this.manifest = (await this.store.readJson(CURRENT_MODEL_MANIFEST_KEY)) as ModelManifest | null;
    return result;
  }

  async current(): Promise<ModelManifest | null> {
    return this.manifest;
  }

  async score(manifest: ModelManifest, input: readonly number[]): Promise<ModelScore> {
    const forest = await this.forest(manifest);
    return { score: forest.score(input), attribution: forest.attribution(input) };
  }

  private async forest(manifest: ModelManifest): Promise<RandomCutForest> {
    if (this.loaded?.modelVersion === manifest.modelVersion) return this.loaded.forest;
    const text = manifest.artifactKey ? await this.lake.get(manifest.artifactKey) : undefined;
    if (text === undefined) {
      throw new Error(
        `embedded model ${manifest.modelVersion} has no forest at '${manifest.artifactKey ?? ''}'`,
      );
    }
    const forest = RandomCutForest.fromJSON(JSON.parse(text) as SerializedForest);
    if (forest.dimensions !== FEATURE_DIMENSION) {
      throw new Error(
        `embedded model ${manifest.modelVersion} has ${forest.dimensions} dimensions, not ${FEATURE_DIMENSION}`,
      );
    }
    this.loaded = { modelVersion: manifest.modelVersion, forest };
    return forest;
  }
}

/**
 * The projects' recent builds, as the scorer Lambda reads them from the data lake (`S3ProjectHistory`):
 * the last `baselineSize` as the cold-start baseline, and for the trend test those `selectTrendHistory`
 * keeps.
 */
export class RecentBuildsHistory implements ProjectHistory {
  private readonly recentBuilds = new Map<string, (TrendPoint & { buildId: string })[]>();

  constructor(private readonly baselineSize = 60) {}

  add(record: BuildRecord): void {
    const list = this.recentBuilds.get(record.projectName) ?? [];
    if (list.some((entry) => entry.buildId === record.buildId)) return;
    const point = trendPointOf(record);
    list.push({ buildId: record.buildId, ...point });
    // Kept: the baseline's builds and every build the trend test could still be given.
    while (list.length > this.baselineSize && utcDaysBetween(list[0]!.at, point.at) > TREND_HISTORY.days)
      list.shift();
    this.recentBuilds.set(record.projectName, list);
  }

  async baseline(projectName: string, excludingBuildId: string): Promise<ProjectBaseline | null> {
    const vectors = this.others(projectName, excludingBuildId)
      .slice(-this.baselineSize)
      .map((entry) => entry.values);
    return vectors.length === 0 ? null : computeBaseline(projectName, vectors);
  }

  async recent(projectName: string, excludingBuildId: string, endedAt: Date): Promise<TrendPoint[]> {
    const points = this.others(projectName, excludingBuildId).map(({ at, values, succeeded }) => ({
      at,
      values,
      succeeded,
    }));
    return selectTrendHistory(points, endedAt.getTime());
  }

  private others(projectName: string, excludingBuildId: string) {
    return (this.recentBuilds.get(projectName) ?? []).filter((entry) => entry.buildId !== excludingBuildId);
  }
}
