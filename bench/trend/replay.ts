/**
 * Verdict rules on the replay: reads the builds a replay scored (written by `bench/trend/dump.ts`) and
 * decides each build again from its score, threshold, status and leading feature, with the trend test run
 * over the project's earlier builds as the scorer runs it (those `selectTrendHistory` keeps). Prints the replay's own
 * detection figures, the same rules recomputed (they must agree: a check of this bench), and each variant
 * of the rules: the success margin, the lower-than-usual dismissal, the corroboration of successful builds
 * and the trend options.
 * `npx tsx bench/trend/replay.ts /tmp/pipemend-trend/replay-*.json`
 * `VERDICT_VARIANTS='[{"margin":1.1},{"trend":{"minZ":3.5}}]' npx tsx bench/trend/replay.ts …`
 * The replay's remediation of builds whose verdict changes is not re-run: MTTR and cost are not reported.
 */
import { readFileSync } from 'node:fs';

import { corroborated, SUCCESS_MARGIN } from '../../core/scoring/scoring';
import { assessTrend, selectTrendHistory, TrendOptions, TrendPoint } from '../../core/scoring/trend';
import type { ReplayResult } from '../../local/replay';
import { computeMetrics } from '../../local/report/metrics';

type DumpedBuild = ReplayResult['builds'][number] & { values: number[] | null };

export interface VerdictRules {
  /** A successful build's score must exceed margin × threshold. */
  readonly margin: number;
  /** A successful build led by a lower-than-usual feature is not anomalous. */
  readonly dismissLow: boolean;
  /** Trend test options; `false`: no trend test. */
  readonly trend: TrendOptions | false;
  /**
   * A successful build over the threshold needs the project's previous build to corroborate it
   * (`corroborated`). The bench takes the previous build's recorded score and threshold; the scorer
   * scores it again with the current model, so a build just after a retraining may differ.
   */
  readonly corroborate: boolean;
}

export const SHIPPED_RULES: VerdictRules = {
  margin: SUCCESS_MARGIN,
  dismissLow: true,
  trend: {},
  corroborate: true,
};

export function rescore(result: ReplayResult, rules: VerdictRules): ReplayResult {
  const builds = result.builds as DumpedBuild[];
  const trendFlagged = new Set<number>();
  if (rules.trend !== false) {
    const byProject = new Map<string, { point: TrendPoint; index: number }[]>();
    builds.forEach((b, index) => {
      if (!b.values) return;
      const point = { at: Date.parse(b.endTime), values: b.values, succeeded: b.status === 'SUCCEEDED' };
      byProject.set(b.projectName, [...(byProject.get(b.projectName) ?? []), { point, index }]);
    });
    for (const entries of byProject.values()) {
      entries.sort((a, b) => a.point.at - b.point.at);
      entries.forEach((entry, i) => {
        const history = selectTrendHistory(
          entries.slice(0, i).map((e) => e.point),
          entry.point.at,
        );
        if (assessTrend(history, entry.point, rules.trend || {}).length > 0) trendFlagged.add(entry.index);
      });
    }
  }
  // Each build's project's previous scored build (any status), by end time.
  const previous = new Map<number, { score: number; threshold: number }>();
  const last = new Map<string, { score: number; threshold: number }>();
  builds
    .map((b, index) => ({ b, index }))
    .sort((x, y) => Date.parse(x.b.endTime) - Date.parse(y.b.endTime))
    .forEach(({ b, index }) => {
      if (b.scorer === null) return;
      const before = last.get(b.projectName);
      if (before) previous.set(index, before);
      last.set(b.projectName, { score: b.score, threshold: b.threshold });
    });
  return {
    ...result,
    builds: builds.map((b, i) => {
      if (b.scorer === null) return b;
      let model = b.score > b.threshold;
      if (model && b.status === 'SUCCEEDED') {
        if (rules.dismissLow && b.topFeatures[0]?.direction === 'low' && !trendFlagged.has(i)) model = false;
        if (b.score <= rules.margin * b.threshold) model = false;
        if (rules.corroborate && !corroborated(b, previous.get(i) ?? null)) model = false;
      }
      return { ...b, anomalous: model || trendFlagged.has(i) };
    }),
  };
}

export function revive(file: string): ReplayResult {
  const dumped = JSON.parse(readFileSync(file, 'utf8')) as { result: ReplayResult };
  const r = dumped.result as unknown as Record<string, unknown> & { incidents: Record<string, unknown>[] };
  r.incidents = r.incidents.map((incident) => {
    const out: Record<string, unknown> = { ...incident };
    for (const key of ['start', 'firstFailureAt', 'manualRecoveryAt', 'manualActionAt'])
      if (typeof out[key] === 'string') out[key] = new Date(out[key] as string);
    return out;
  });
  for (const key of ['start', 'end']) if (typeof r[key] === 'string') r[key] = new Date(r[key] as string);
  return r as unknown as ReplayResult;
}

function line(label: string, result: ReplayResult): string {
  const m = computeMetrics(result);
  const d = m.detection;
  const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)}%`);
  const creeps = m.incidents
    .filter((i) => i.kind === 'resource_exhaustion')
    .map((i) => `${i.id} ${i.hoursToDetect === undefined ? 'missed' : `${i.hoursToDetect.toFixed(1)} h`}`)
    .join(', ');
  return (
    `${label.padEnd(8)} flagged ${d.truePositives + d.falsePositives} (TP ${d.truePositives}, FP ${d.falsePositives}, FN ${d.falseNegatives}) ` +
    `precision ${pct(d.precision)} build recall ${pct(d.buildRecall)} incidents ${pct(d.incidentRecall)} ` +
    `mean time to detect ${d.meanHoursToDetect?.toFixed(1)} h; creeps: ${creeps}`
  );
}

if (require.main === module) {
  const variants = JSON.parse(process.env.VERDICT_VARIANTS ?? '[]') as Partial<VerdictRules>[];
  for (const file of process.argv.slice(2)) {
    const result = revive(file);
    console.log(file);
    console.log(line('replay', result));
    console.log(line('rules', rescore(result, SHIPPED_RULES)));
    for (const v of variants)
      console.log(line(JSON.stringify(v), rescore(result, { ...SHIPPED_RULES, ...v })));
  }
}
