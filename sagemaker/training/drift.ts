/**
 * Drift between the builds the current model was trained on and the recent builds: the norms of a
 * pipeline change (tests were added, builds got longer) and the model must be retrained. Measured per
 * project and feature as the shift of the recent median from the model's baseline median, in robust
 * standard deviations; a project the model has never seen counts as drift once it has enough builds.
 */
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

export function detectDrift(
  recentRows: readonly FeatureRow[],
  baselines: Readonly<Record<string, ProjectBaseline>>,
  options: DriftOptions,
): DriftReport {
  const byProject = new Map<string, FeatureRow[]>();
  for (const row of recentRows)
    byProject.set(row.projectName, [...(byProject.get(row.projectName) ?? []), row]);
  const shifts: FeatureShift[] = [];
  const newProjects: string[] = [];
  let projectsChecked = 0;
  for (const [projectName, rows] of [...byProject.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (rows.length < options.minRecentBuilds) continue;
    const baseline = baselines[projectName];
    if (!baseline) {
      newProjects.push(projectName);
      continue;
    }
    projectsChecked++;
    const scale = robustScale(baseline);
    FEATURE_NAMES.forEach((feature, f) => {
      const recentMedian = median(rows.map((row) => row.values[f] ?? 0));
      const shift = (recentMedian - (baseline.median[f] ?? 0)) / scale[f]!;
      if (Math.abs(shift) >= options.shiftThreshold) shifts.push({ projectName, feature, shift });
    });
  }
  shifts.sort((a, b) => Math.abs(b.shift) - Math.abs(a.shift));
  return { drifted: shifts.length > 0 || newProjects.length > 0, shifts, newProjects, projectsChecked };
}
