/**
 * Drift between the builds the current model was trained on and the recent builds: the norms of a
 * pipeline change (tests were added, builds got longer) and the model must be retrained. Measured per
 * project and feature as the shift of the recent median from the model's baseline median, in robust
 * standard deviations; a project the model has never seen counts as drift once it has enough builds.
 * The recent builds come from the per-build feature rows (exact medians) or from the compacted table's
 * stratified sample (medians of up to 1,000 builds per project, `recentProjectsOfSample`).
 */
import { WindowSample } from './parquet-window';
import { FeatureRow } from './window';
import { FEATURE_NAMES, FeatureName } from '../../core/collection/build-record';
import { median, ProjectBaseline, robustScale } from '../../core/scoring/baseline';

export interface DriftOptions {
  /** A project needs this many recent builds before its drift counts (fewer is noise). */
  readonly minRecentBuilds: number;
  /** Shift of the recent median, in robust standard deviations, that counts as drift. */
  readonly shiftThreshold: number;
}

export interface FeatureShift {
  readonly projectName: string;
  readonly feature: FeatureName;
  /** (recent median − baseline median) / robust scale. */
  readonly shift: number;
}

export interface DriftReport {
  readonly drifted: boolean;
  readonly shifts: FeatureShift[];
  /** Projects with enough recent builds that the model has no baseline for. */
  readonly newProjects: string[];
  /** Projects checked (enough recent builds and a baseline). */
  readonly projectsChecked: number;
}

/** A project's recent builds as the drift check sees them: how many, and each feature's median. */
export interface RecentProject {
  readonly projectName: string;
  readonly builds: number;
  /** Per feature (FEATURE_NAMES order): the median of the recent builds, or of a sample of them. */
  readonly medians: readonly number[];
}

/** The recent projects of the per-build feature rows: every row counted, exact medians. */
export function recentProjectsOfRows(rows: readonly FeatureRow[]): RecentProject[] {
  const byProject = new Map<string, FeatureRow[]>();
  for (const row of rows) byProject.set(row.projectName, [...(byProject.get(row.projectName) ?? []), row]);
  return [...byProject.entries()].map(([projectName, projectRows]) => ({
    projectName,
    builds: projectRows.length,
    medians: FEATURE_NAMES.map((_, f) => median(projectRows.map((row) => row.values[f] ?? 0))),
  }));
}

/**
 * The recent projects of the compacted table's stratified sample (`WindowSample`): every build counted,
 * medians of the project's sample (all its builds up to the sample size, 1,000 by default). Projects with
 * fewer builds than the sample's `minBuildsPerProject` have no baseline in it and are left out: give the
 * query the drift check's `minRecentBuilds`, below which a project does not count anyway.
 */
export function recentProjectsOfSample(sample: WindowSample): RecentProject[] {
  return Object.entries(sample.baselines).map(([projectName, baseline]) => ({
    projectName,
    builds: sample.projectBuilds[projectName] ?? 0,
    medians: baseline.median,
  }));
}

export function detectDrift(
  recentRows: readonly FeatureRow[],
  baselines: Readonly<Record<string, ProjectBaseline>>,
  options: DriftOptions,
): DriftReport {
  return detectProjectDrift(recentProjectsOfRows(recentRows), baselines, options);
}

/** Drift of each recent project's medians from the model's baselines. */
export function detectProjectDrift(
  recent: readonly RecentProject[],
  baselines: Readonly<Record<string, ProjectBaseline>>,
  options: DriftOptions,
): DriftReport {
  const shifts: FeatureShift[] = [];
  const newProjects: string[] = [];
  let projectsChecked = 0;
  for (const project of [...recent].sort((a, b) => a.projectName.localeCompare(b.projectName))) {
    const { projectName } = project;
    if (project.builds < options.minRecentBuilds) continue;
    const baseline = baselines[projectName];
    if (!baseline) {
      newProjects.push(projectName);
      continue;
    }
    projectsChecked++;
    const scale = robustScale(baseline);
    FEATURE_NAMES.forEach((feature, f) => {
      const shift = ((project.medians[f] ?? 0) - (baseline.median[f] ?? 0)) / scale[f]!;
      if (Math.abs(shift) >= options.shiftThreshold) shifts.push({ projectName, feature, shift });
    });
  }
  shifts.sort((a, b) => Math.abs(b.shift) - Math.abs(a.shift));
  return { drifted: shifts.length > 0 || newProjects.length > 0, shifts, newProjects, projectsChecked };
}
