/**
 * The training window: the data lake's feature rows of the last N days, assembled into what a model is
 * trained and evaluated on. Pure logic (no AWS): the SageMaker pipeline's window step, the embedded
 * trainer and the local replay feed it rows from their own storage.
 *
 * Every project's rows are normalised with that project's own median/MAD baseline, so one model serves
 * all projects; the baselines travel in the model manifest so the scorer normalises the same way.
 */
import { FEATURE_DIMENSION } from '../../core/collection/build-record';
import { computeBaseline, normalize, ProjectBaseline } from '../../core/scoring/baseline';

/** One build's feature row as stored under `features/project=<p>/date=<d>/<buildId>.csv`. */
export interface FeatureRow {
  readonly projectName: string;
  readonly buildId: string;
  /** `YYYY-MM-DD` of the build's end. */
  readonly date: string;
  /** Raw feature values in FEATURE_NAMES order. */
  readonly values: readonly number[];
}

/** A normalised row, still tied to its build so evaluation can join it with labels. */
export interface WindowRow {
  readonly projectName: string;
  readonly buildId: string;
  readonly date: string;
  readonly normalized: number[];
}

export interface TrainingWindowOptions {
  /** Fewer rows than this (after excluding projects below `minBuildsPerProject`) fails the window. */
  readonly minTrainingRows: number;
  /** Projects with fewer builds than this get no baseline and are left to the baseline scorer. */
  readonly minBuildsPerProject: number;
  /** Rows ending on or after this date (`YYYY-MM-DD`) form the evaluation set ("recent data"). */
  readonly evaluationFrom: string;
  /** Baselines computed elsewhere (from a larger sample than `rows`, e.g. the compacted window's). */
  readonly baselines?: Readonly<Record<string, ProjectBaseline>>;
  /** Builds per project in the whole window when `rows` is a sample; decides `minBuildsPerProject`. */
  readonly projectBuilds?: Readonly<Record<string, number>>;
}

export interface TrainingWindow {
  readonly baselines: Record<string, ProjectBaseline>;
  /** Every kept row (training set), normalised. */
  readonly training: WindowRow[];
  /** The recent rows (a subset of `training`) whose scores calibrate the threshold. */
  readonly evaluation: WindowRow[];
  /** Projects left out because they had fewer than `minBuildsPerProject` builds, with their counts. */
  readonly excludedProjects: Record<string, number>;
}

/** Thrown when the window holds too few rows to train on; its message says how many and how many are needed. */
export class InsufficientTrainingDataError extends Error {
  public override readonly name = 'InsufficientTrainingDataError';
}

/** Thrown for a feature row that cannot be parsed; the caller decides whether to skip or stop. */
export class MalformedFeatureRowError extends Error {
  public override readonly name = 'MalformedFeatureRowError';
}

const FEATURE_ROW_KEY = /^features\/project=([^/]+)\/date=(\d{4}-\d{2}-\d{2})\/(.+)\.csv$/;

/** The project, date and build id encoded in a feature-row key, or undefined for any other key. */
export function parseFeatureRowKey(
  key: string,
): { projectName: string; date: string; buildId: string } | undefined {
  const match = FEATURE_ROW_KEY.exec(key);
  if (!match) return undefined;
  return {
    projectName: decodeKeyPart(match[1]!),
    date: match[2]!,
    buildId: decodeKeyPart(match[3]!),
  };
}

/** Parses a feature row's CSV body (one line, FEATURE_DIMENSION finite numbers). */
export function parseFeatureCsv(key: string, body: string): number[] {
  const line = body.trim().split(/\r?\n/)[0] ?? '';
  const cells = line.split(',');
  if (cells.length !== FEATURE_DIMENSION) {
    throw new MalformedFeatureRowError(
      `${key}: expected ${FEATURE_DIMENSION} comma-separated values, found ${line === '' ? 0 : cells.length}`,
    );
  }
  return cells.map((cell, index) => {
    const value = Number(cell);
    if (cell.trim() === '' || !Number.isFinite(value)) {
      throw new MalformedFeatureRowError(`${key}: value ${index + 1} ('${cell}') is not a finite number`);
    }
    return value;
  });
}

/** The first date (`YYYY-MM-DD`, UTC) inside a window of `days` days ending at `now` (inclusive). */
export function windowStartDate(now: Date, days: number): string {
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`window days must be a positive integer, got ${days}`);
  const start = new Date(now.getTime() - (days - 1) * 86_400_000);
  return start.toISOString().slice(0, 10);
}

/** Builds the window: per-project baselines, normalised rows, the recent evaluation subset. */
export function assembleTrainingWindow(
  rows: readonly FeatureRow[],
  options: TrainingWindowOptions,
): TrainingWindow {
  const byProject = new Map<string, FeatureRow[]>();
  for (const row of rows) {
    const list = byProject.get(row.projectName) ?? [];
    list.push(row);
    byProject.set(row.projectName, list);
  }
  const baselines: Record<string, ProjectBaseline> = {};
  const excludedProjects: Record<string, number> = {};
  const training: WindowRow[] = [];
  for (const [projectName, projectRows] of [...byProject.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const builds = options.projectBuilds?.[projectName] ?? projectRows.length;
    if (builds < options.minBuildsPerProject) {
      excludedProjects[projectName] = builds;
      continue;
    }
    const baseline =
      options.baselines?.[projectName] ??
      computeBaseline(
        projectName,
        projectRows.map((row) => row.values),
      );
    baselines[projectName] = baseline;
    const ordered = [...projectRows].sort(
      (a, b) => a.date.localeCompare(b.date) || a.buildId.localeCompare(b.buildId),
    );
    for (const row of ordered) {
      training.push({
        projectName,
        buildId: row.buildId,
        date: row.date,
        normalized: normalize(row.values, baseline),
      });
    }
  }
  // A sampled project none of whose rows made the forest sample still gets its baseline in the manifest.
  for (const [projectName, baseline] of Object.entries(options.baselines ?? {})) {
    if (!baselines[projectName] && !excludedProjects[projectName]) baselines[projectName] = baseline;
  }
  if (training.length < options.minTrainingRows) {
    const excluded = Object.keys(excludedProjects).length;
    throw new InsufficientTrainingDataError(
      `The training window has ${training.length} usable feature rows from ${Object.keys(baselines).length} projects ` +
        `(${rows.length} rows read, ${excluded} projects below ${options.minBuildsPerProject} builds left out); ` +
        `at least ${options.minTrainingRows} are required. Collect more build history or lower the minimum.`,
    );
  }
  const evaluation = training.filter((row) => row.date >= options.evaluationFrom);
  if (evaluation.length === 0) {
    throw new InsufficientTrainingDataError(
      `The training window has no builds since ${options.evaluationFrom} to evaluate the model on; ` +
        'widen the evaluation period or wait for new builds.',
    );
  }
  return { baselines, training, evaluation, excludedProjects };
}

/** CSV without header or label, one normalised row per line: SageMaker RCF's `text/csv;label_size=0`. */
export function toTrainingCsv(rows: readonly WindowRow[]): string {
  return rows.map((row) => row.normalized.map(formatValue).join(',')).join('\n') + (rows.length ? '\n' : '');
}

function formatValue(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

function decodeKeyPart(value: string): string {
  return value.replace(/%2F/g, '/');
}
