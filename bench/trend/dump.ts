/**
 * Runs `pipemend replay` in process (the same `runReplay` as the command) and writes what the trend
 * evaluation needs: the replayed builds with their verdicts and ground truth, each with its feature
 * vector from the local data lake, and the replay's own detection figures.
 * `npx tsx bench/trend/dump.ts [seed] [days]` writes /tmp/pipemend-trend/replay-<seed>-<days>.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

import { runReplay } from '../../bin/commands/replay';
import { toFeatureVector, BuildRecord } from '../../core/collection/build-record';
import { DEFAULT_SCENARIO } from '../../local/simulation/scenario';

async function main() {
  const seed = Number(process.argv[2] ?? DEFAULT_SCENARIO.seed);
  const days = Number(process.argv[3] ?? DEFAULT_SCENARIO.days);
  mkdirSync('/tmp/pipemend-trend', { recursive: true });
  const out = `/tmp/pipemend-trend/replay-${seed}-${days}`;
  const run = await runReplay({ mode: 'enforce', out, seed, days, trees: 50, progress: false });
  const records = new Map<string, BuildRecord>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.includes('/builds/') && p.endsWith('.json')) {
        const r = JSON.parse(readFileSync(p, 'utf8')) as BuildRecord;
        records.set(r.buildId, r);
      }
    }
  };
  walk(path.join(out, 'data-lake'));
  const builds = run.result.builds.map((b) => ({
    ...b,
    values: records.get(b.buildId) ? toFeatureVector(records.get(b.buildId)!).values : null,
  }));
  writeFileSync(
    `${out}.json`,
    JSON.stringify({ result: { ...run.result, builds }, detection: run.metrics.detection }),
  );
  console.log(
    seed,
    days,
    JSON.stringify(run.metrics.detection),
    run.metrics.incidents.map((i) => `${i.id}:${i.hoursToDetect?.toFixed(1)}`).join(' '),
  );
}
void main();
