/**
 * Replay speed: the default `npm start` (`pipemend replay`: synthesis of the remediation state machine, the
 * 120-day simulation through collection, weekly training, scoring, remediation and suggestions, and the
 * report), timed end to end, with builds per second and the time of each stage. Run on an idle machine:
 * the figures are wall-clock times.
 *
 *   npm run bench:replay [-- --runs 1]
 */
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';

import { runReplay } from '../bin/commands/replay';
import { REPLAY_TRAINING_SETTINGS } from '../local/replay/embedded-model';
import { DEFAULT_SCENARIO } from '../local/simulation/scenario';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const runs = argument('runs', 1);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg()[0]!.toFixed(1)} before the run`,
  );
  for (let run = 1; run <= runs; run++) {
    const cpuBefore = process.cpuUsage();
    const result = await runReplay({
      mode: 'enforce',
      out: path.resolve(__dirname, '..', 'out', 'bench-replay'),
      seed: DEFAULT_SCENARIO.seed,
      days: DEFAULT_SCENARIO.days,
      trees: REPLAY_TRAINING_SETTINGS.numTrees,
      progress: false,
    });
    const cpu = process.cpuUsage(cpuBefore);
    const { result: replay } = result;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`run ${run}:`);
    console.log(`  builds replayed            ${replay.builds.length}`);
    console.log(
      `  whole command (wall)       ${seconds(result.wallMs)}  (CPU ${seconds((cpu.user + cpu.system) / 1000)})`,
    );
    console.log(`  replay loop (wall)         ${seconds(replay.wallMs)}`);
    console.log(
      `  end to end                 ${(replay.builds.length / (result.wallMs / 1000)).toFixed(0)} builds/s`,
    );
    console.log(
      `  replay loop                ${(replay.builds.length / (replay.wallMs / 1000)).toFixed(0)} builds/s`,
    );
    for (const [stage, ms] of Object.entries(replay.stageMs))
      console.log(`    ${stage.padEnd(24)} ${seconds(ms)}`);
    console.log(`  synthesis and report       ${seconds(result.wallMs - replay.wallMs)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
