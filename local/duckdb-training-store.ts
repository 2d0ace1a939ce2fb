/**
 * The embedded trainer's store on the compacted local data lake: before each training the stale
 * partitions are compacted to Parquet (what the scheduled compaction does in AWS), then the window is
 * read as the stratified sample of `sagemaker/training/parquet-window.ts`, on DuckDB. Labels and models
 * stay JSON objects, read and written as before.
 */
import { DuckDbLake } from './duckdb-lake';
import { TrainingStore } from '../sagemaker/training/embedded-training';
import { DEFAULT_SAMPLE_PLAN, WindowSample, WindowSamplePlan } from '../sagemaker/training/parquet-window';

export interface CompactionStats {
  /** Partitions (project × day) compacted, new or recompacted, over all trainings. */
  partitionsCompacted: number;
  /** Rows the last window sample read from Parquet into the trainer. */
  lastSampledRows: number;
}

/** Wraps a store of JSON objects (labels, models); only the window comes from the compacted files. */
export class CompactedTrainingStore implements TrainingStore {
  readonly stats: CompactionStats = { partitionsCompacted: 0, lastSampledRows: 0 };

  constructor(
    private readonly objects: TrainingStore,
    private readonly root: string,
    private readonly plan: Omit<WindowSamplePlan, 'minBuildsPerProject'> = DEFAULT_SAMPLE_PLAN,
  ) {}

  readFeatureRows(fromDate: string): ReturnType<TrainingStore['readFeatureRows']> {
    return this.objects.readFeatureRows(fromDate);
  }

  readLabelTexts(): Promise<string[]> {
    return this.objects.readLabelTexts();
  }

  readJson(key: string): Promise<unknown> {
    return this.objects.readJson(key);
  }

  writeJson(key: string, value: unknown): Promise<void> {
    return this.objects.writeJson(key, value);
  }

  async readWindowSample(fromDate: string, minBuildsPerProject: number): Promise<WindowSample> {
    const lake = await DuckDbLake.open(this.root);
    try {
      this.stats.partitionsCompacted += (await lake.compactStale()).length;
      const sample = await lake.readWindowSample(fromDate, { ...this.plan, minBuildsPerProject });
      this.stats.lastSampledRows = sample.sampledRows;
      return sample;
    } finally {
      lake.close();
    }
  }
}
