import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';

import { parseTrendSettings, TrendSettings } from '../../core/scoring/trend-settings';
import { REMEDIATION_MODES, RemediationMode } from '../../lib/config';
import { ReplayOptions, ReplayResult, replayDataDirectory, replaySimulation } from '../../local/replay';
import { REPLAY_TRAINING_SETTINGS } from '../../local/replay/embedded-model';
import { SimulatedRemediator, synthesizedRemediationDefinition } from '../../local/replay/remediation';
import { simulatedSuggester, SuggesterStats } from '../../local/replay/suggestions';
import { plural, readEchartsSource, renderReport } from '../../local/report/html';
import { computeMetrics, formatBuildRate, ReportMetrics } from '../../local/report/metrics';
import { DEFAULT_SCENARIO } from '../../local/simulation/scenario';
import { UsageError } from '../cli-errors';

export interface ReplayCommandOptions {
  readonly mode: RemediationMode;
  readonly data?: string;
  readonly out: string;
  readonly seed: number;
  readonly days: number;
  readonly trees: number;
  readonly bedrock?: string;
  readonly trend?: TrendSettings;
  readonly progress: boolean;
}

export interface ReplayRun {
  readonly result: ReplayResult;
  readonly metrics: ReportMetrics;
  readonly reportPath: string;
  /** Wall time of the whole command: synthesis, replay and report. */
  readonly wallMs: number;
  readonly suggesterStats?: SuggesterStats;
}

/** `pipemend replay`: the whole of Pipemend on a simulated (or the user's own) build history, locally. */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description(
      'Replay a build history through collection, training, scoring, remediation and suggestions, locally, and write out/report.html',
    )
    .addOption(
      new Option('--mode <mode>', 'remediation mode (enforce acts, suggest proposes, shadow only records)')
        .choices(REMEDIATION_MODES)
        .default('enforce'),
    )
    .option('--data <dir>', "replay your own history: the directory 'pipemend backfill --out' wrote")
    .option('--out <dir>', 'where the report and the local data lake go', 'out')
    .option(
      '--seed <n>',
      'simulation seed (same seed, same history)',
      integerOption(0, 2 ** 31 - 1),
      DEFAULT_SCENARIO.seed,
    )
    .option('--days <n>', 'simulated days', integerOption(30, 730), DEFAULT_SCENARIO.days)
    .option(
      '--trees <n>',
      'trees of the embedded Random Cut Forest',
      integerOption(10, 1000),
      REPLAY_TRAINING_SETTINGS.numTrees,
    )
    .option('--bedrock <model-id>', 'suggest fixes with this Amazon Bedrock model (needs AWS credentials)')
    .option(
      '--trend <json>',
      'trend test settings, as the trend context key: \'{"features":["memoryUtilizedPercent","buildSeconds"],"minShift":1.2,"minZ":4}\'',
      trendOption,
    )
    .option('--no-progress', 'no progress bar')
    .action(async (options: ReplayCommandOptions) => {
      if (!options.data && typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
        throw new UsageError(
          `replay runs the synthesized state machine with aws-local-stepfunctions, which needs Node.js 22 or later; this is ${process.version}`,
        );
      }
      const run = await runReplay(options, (line) => process.stdout.write(`${line}\n`));
      process.stdout.write(summary(run));
    });
}

export async function runReplay(
  options: ReplayCommandOptions,
  log: (line: string) => void = () => undefined,
): Promise<ReplayRun> {
  const started = performance.now();
  if (!options.data) log('Synthesizing the Pipemend stack for its remediation state machine...');
  // Synthesis takes seconds: once, up front, so the progress bar measures the replay itself.
  if (!options.data) synthesizedRemediationDefinition();
  const bar = options.progress
    ? new SingleBar(
        {
          format: 'replay [{bar}] {percentage}% | {value}/{total} builds | ETA {eta}s',
          stream: process.stderr,
          hideCursor: true,
        },
        Presets.shades_classic,
      )
    : undefined;
  let barStarted = false;
  let suggesterStats: SuggesterStats | undefined;
  const replayOptions: ReplayOptions = {
    mode: options.mode,
    dataLakeDir: path.join(options.out, 'data-lake'),
    training: { ...REPLAY_TRAINING_SETTINGS, numTrees: options.trees },
    trend: options.trend,
    remediator: (ci, lake, mode) => new SimulatedRemediator(ci, { mode, lake, seed: options.seed }),
    suggester: (ci) => {
      const built = simulatedSuggester(ci, options.bedrock ? { bedrockModelId: options.bedrock } : {});
      suggesterStats = built.stats;
      return built.suggester;
    },
    onProgress: (done, total) => {
      if (!bar) return;
      if (!barStarted) {
        bar.start(total, 0);
        barStarted = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
  };
  let result: ReplayResult;
  try {
    result = options.data
      ? await replayDataDirectory(options.data, replayOptions)
      : await replaySimulation(
          {
            ...DEFAULT_SCENARIO,
            seed: options.seed,
            days: options.days,
            incidents: DEFAULT_SCENARIO.incidents.filter((i) => i.day < options.days),
          },
          replayOptions,
        );
  } finally {
    bar?.stop();
  }
  const metrics = computeMetrics(result);
  const reportPath = path.join(options.out, 'report.html');
  await mkdir(options.out, { recursive: true });
  await writeFile(reportPath, renderReport(result, metrics, await readEchartsSource()), 'utf8');
  return {
    result,
    metrics,
    reportPath,
    wallMs: performance.now() - started,
    ...(suggesterStats ? { suggesterStats } : {}),
  };
}

/** The terminal summary: the report's headline figures. */
export function summary(run: ReplayRun): string {
  const { result, metrics } = run;
  const d = metrics.detection;
  const r = metrics.remediation;
  const pct = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(0)}%`);
  const h = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} h`);
  const lines = [
    '',
    // The same duration as the report's header (the replay itself); synthesis and the report come on top.
    `Replayed ${metrics.buildsReplayed} builds (${metrics.organicBuilds} from the history, ${metrics.pipemendBuilds} started by Pipemend) over ${result.days.toFixed(0)} days; the replay took ${(result.wallMs / 1000).toFixed(1)} s (${formatBuildRate(metrics.buildsPerSecond)}), ${(run.wallMs / 1000).toFixed(1)} s with the stack's synthesis and the report; mode ${result.mode}.`,
    `Models trained: ${result.trainings.length}; anomalous builds: ${metrics.anomalousBuilds} of the ${metrics.organicBuilds} history builds.`,
    ...(result.source === 'simulation'
      ? [
          `Detection: precision ${pct(d.precision)} (${pct(d.modelPrecision)} once a model scores), build recall ${pct(d.buildRecall)}, incidents detected ${pct(d.incidentRecall)} (${metrics.incidents.filter((i) => i.detected).length}/${metrics.incidents.length}), mean time to detect ${h(d.meanHoursToDetect)}.`,
          `Remediation: ${
            Object.entries(r.decided)
              .map(([action, n]) => `${action} ${n}`)
              .join(', ') || 'none'
          }; builds saved by reruns ${r.buildsSavedByReruns}, rollbacks ${r.rollbacksPerformed}; notifications sent ${r.notifications}.`,
          `Flaky-test failures: ${r.flakyTests.flakyFailures}, rescued by a rerun without a page ${r.flakyTests.rescuedWithoutPage}, paged ${r.flakyTests.paged}; regression builds rerun ${r.flakyTests.regressionReruns} (at most ${r.flakyTests.maxRerunsOfOneRegressionRevision} per revision); broken tests treated as flaky ${r.flakyTests.brokenTreatedAsFlaky}.`,
          `Notifications by failure: ${r.notifications} sent for ${r.grouping.distinctFailuresNotified} of ${r.grouping.distinctFailures} distinct failures; ${r.grouping.repeatsFolded} repeats within 24 h counted instead of sent, summarised in ${plural(r.grouping.digests, 'daily digest')}.`,
          `Mean time to recovery: ${h(metrics.meanHoursToRecoverManually)} without Pipemend, ${h(metrics.meanHoursToRecover)} with it.`,
        ]
      : []),
    `Estimated AWS cost for this workload: $${metrics.cost.monthlyUsd.toFixed(2)} a month.`,
    ...(run.suggesterStats?.bedrockCalls
      ? [
          `Bedrock: ${run.suggesterStats.bedrockCalls} calls, ${run.suggesterStats.inputTokens + run.suggesterStats.outputTokens} tokens.`,
        ]
      : []),
    // With --bedrock, say when and why the offline suggester answered instead (no credentials, budget...).
    ...Object.entries(run.suggesterStats?.fallbacks ?? {})
      .filter(([reason]) => reason !== 'bedrock-not-configured')
      .map(([reason, count]) => `Offline suggestions instead of Bedrock: ${count} (${reason}).`),
    ...(run.suggesterStats?.warnings[0] ? [`First Bedrock warning: ${run.suggesterStats.warnings[0]}`] : []),
    ...result.missingStages.map((stage) => `Not part of this run: ${stage}.`),
    `Report: ${path.resolve(run.reportPath)}`,
    '',
  ];
  return lines.join('\n');
}

function trendOption(json: string): TrendSettings {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new InvalidArgumentError(`expected JSON, got '${json}' (${(error as Error).message})`);
  }
  try {
    return parseTrendSettings(value, 'trend settings');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function integerOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got '${value}'`);
    }
    return parsed;
  };
}
