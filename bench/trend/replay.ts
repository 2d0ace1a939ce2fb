/**
 * Trend signal on the replay: reads the builds a replay scored (written by `bench/trend/dump.ts`), runs
 * `assessTrend` for every build over its project's earlier builds, exactly as the scorer would with the
 * project's recent history, and reports the replay's detection figures with the verdict
 * `anomalous = model/baseline verdict OR trend finding`, next to the replay's own figures.
 * `npx tsx bench/trend/replay.ts /tmp/pipemend-trend/replay-*.json`
 */
import { readFileSync } from 'node:fs';

import { assessTrend, TrendOptions, TrendPoint } from '../../core/scoring/trend';
import type { ReplayResult } from '../../local/replay';
import { computeMetrics } from '../../local/report/metrics';

const HISTORY_BUILDS = Number(process.env.TREND_HISTORY_BUILDS ?? 100);

type DumpedBuild = ReplayResult['builds'][number] & { values: number[] | null };

export function withTrend(result: ReplayResult, options: TrendOptions = {}): ReplayResult {
  const builds = result.builds as DumpedBuild[];
  const byProject = new Map<string, { point: TrendPoint; index: number }[]>();
  builds.forEach((b, index) => {
    if (!b.values) return;
    const point = { at: Date.parse(b.endTime), values: b.values, succeeded: b.status === 'SUCCEEDED' };
    byProject.set(b.projectName, [...(byProject.get(b.projectName) ?? []), { point, index }]);
  });
  const flagged = new Set<number>();
  for (const entries of byProject.values()) {
    entries.sort((a, b) => a.point.at - b.point.at);
    entries.forEach((entry, i) => {
      // The scorer Lambda's history reads at most 100 recent builds of the project (S3ProjectHistory).
      const history = entries.slice(Math.max(0, i - HISTORY_BUILDS), i).map((e) => e.point);
      if (assessTrend(history, entry.point, options).length > 0) flagged.add(entry.index);
    });
  }
  return {
    ...result,
    builds: builds.map((b, i) => (flagged.has(i) && !b.anomalous ? { ...b, anomalous: true } : b)),
  };
}

function revive(file: string): ReplayResult {
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
  for (const file of process.argv.slice(2)) {
    const result = revive(file);
    console.log(file);
    console.log(line('replay', result));
    console.log(line('+ trend', withTrend(result)));
    if (process.env.TREND_VARIANTS)
      for (const v of JSON.parse(process.env.TREND_VARIANTS) as TrendOptions[])
        console.log(line(JSON.stringify(v), withTrend(result, v)));
  }
}
