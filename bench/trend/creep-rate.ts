/**
 * How soon the shipped trend test finds a memory creep, by how often the project builds. The replay's
 * projects build 2–8 times a day; docs/detection.md argues that at those rates no test can find the
 * simulator's creeps within 24 h (the matched-filter bound). This bench measures the shipped test
 * (`assessTrend` on the builds `selectTrendHistory` keeps, default options) where the rate is higher.
 *
 * For each rate and seed: the default scenario's `mobile-backend` Build stage (memory 56 % ± 3, a test
 * suite that grows every day) builds at uniformly random times for `NORMAL_DAYS`, then memory creeps
 * to exhaustion over `RAMP_DAYS` (the simulator's own `resource_exhaustion` condition, as in the
 * replay). Reported: the share of seeds whose creep is found within 24 h and 48 h of its start, the
 * median time to detect, false alarms per project-month over the normal days once the reference is
 * complete, and the matched-filter bound's expected z at 24 h (`(S / σ) √(n / 3.6)`, docs/detection.md).
 *
 * `npm run bench:creep -- [seeds]` (default 20 seeds); `TREND_OPTIONS='{"minShift":0.5}'` compares
 * other trend options with the shipped ones.
 */
import { FEATURE_NAMES } from '../../core/collection/build-record';
import {
  assessTrend,
  selectTrendHistory,
  TREND_HISTORY,
  TrendOptions,
  TrendPoint,
} from '../../core/scoring/trend';
import { BuildCondition, simulateBuild } from '../../local/simulation/build';
import { SeededRandom } from '../../local/simulation/random';
import { DEFAULT_SCENARIO } from '../../local/simulation/scenario';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const RATES = [4, 8, 16, 32, 64, 128];
const NORMAL_DAYS = 24;
const RAMP_DAYS = 7;
/** False alarms are counted once the reference can be complete (14 days + the 24 h gap + the window). */
const FALSE_ALARMS_FROM_DAY = 16;
/** Trend options to compare with the defaults, as JSON (`TREND_OPTIONS='{"minShift":0.5}'`). */
const OPTIONS = parseOptions(process.env.TREND_OPTIONS);

function parseOptions(json: string | undefined): TrendOptions {
  let options: TrendOptions;
  try {
    options = JSON.parse(json ?? '{}') as TrendOptions;
  } catch (error) {
    throw new Error(`TREND_OPTIONS must be trend options as JSON: ${(error as Error).message}`);
  }
  // The simulated builds carry memory only (pointOf): another feature would be tested on zeros.
  const others = (options.features ?? []).filter((feature) => feature !== 'memoryUtilizedPercent');
  if (others.length > 0) {
    throw new Error(`TREND_OPTIONS: this bench simulates memory only, not ${others.join(', ')}`);
  }
  return options;
}
const MEMORY = FEATURE_NAMES.indexOf('memoryUtilizedPercent');
const pipeline = DEFAULT_SCENARIO.pipelines.find((p) => p.name === 'mobile-backend')!;
const start = Date.parse(DEFAULT_SCENARIO.startDate);

interface Run {
  /** Hours from the creep's start to the first finding; undefined when not found before exhaustion. */
  readonly hoursToDetect: number | undefined;
  readonly falseAlarms: number;
}

/** The trend test's input from a simulated build: the default features (memory) only. */
function pointOf(at: number, memoryPercent: number, succeeded: boolean): TrendPoint {
  const values = FEATURE_NAMES.map((_, i) => (i === MEMORY ? memoryPercent : 0));
  return { at, values, succeeded };
}

function run(ratePerDay: number, seed: number): Run {
  const random = new SeededRandom(seed * 1000 + ratePerDay);
  const creepStart = start + NORMAL_DAYS * DAY_MS + random.uniform(0, DAY_MS);
  const end = creepStart + RAMP_DAYS * DAY_MS;
  const times: number[] = [];
  for (let day = 0; start + day * DAY_MS < end; day++) {
    for (let k = 0; k < ratePerDay; k++) times.push(start + (day + random.next()) * DAY_MS);
  }
  times.sort((a, b) => a - b);
  const keepFrom = (at: number) => at - (TREND_HISTORY.days + 1) * DAY_MS;
  let history: TrendPoint[] = [];
  let falseAlarms = 0;
  for (const [n, at] of times.entries()) {
    if (at >= end) break;
    const condition: BuildCondition =
      at < creepStart
        ? { kind: 'normal' }
        : {
            kind: 'resource_exhaustion',
            incidentId: 'creep',
            pressure: (at - creepStart) / (RAMP_DAYS * DAY_MS),
          };
    const build = simulateBuild(
      {
        pipeline,
        stageName: 'Build',
        buildNumber: n + 1,
        executionId: `execution-${n}`,
        sourceVersion: random.hex(40),
        initiator: 'codepipeline/mobile-backend',
        start: new Date(at),
        queuedSeconds: 5,
        day: (at - start) / DAY_MS,
        condition,
      },
      new SeededRandom(random.int(0, 2 ** 31)),
    );
    const point = pointOf(
      build.endTime.getTime(),
      build.utilization?.memoryPercent ?? 0,
      build.status === 'SUCCEEDED',
    );
    const found = assessTrend(selectTrendHistory(history, point.at), point, OPTIONS).length > 0;
    if (found && at >= creepStart) return { hoursToDetect: (point.at - creepStart) / HOUR_MS, falseAlarms };
    if (found && at >= start + FALSE_ALARMS_FROM_DAY * DAY_MS) falseAlarms++;
    history.push(point);
    if (history.length > 4 * TREND_HISTORY.days * ratePerDay) {
      history = history.filter((p) => p.at >= keepFrom(point.at));
    }
  }
  return { hoursToDetect: undefined, falseAlarms };
}

/** The matched filter's expected z at 24 h, from the simulator's parameters (docs/detection.md). */
function boundZ(ratePerDay: number): number {
  const sigma = 3;
  const leakAtDay = (100 - pipeline.memoryPercent) * (1 / RAMP_DAYS) ** 1.3;
  return (leakAtDay / sigma) * Math.sqrt(ratePerDay / 3.6);
}

function main(): void {
  const seeds = Number(process.argv[2] ?? 20);
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new Error(`seeds must be a positive integer, got ${process.argv[2]}`);
  console.log(
    `Memory creep (mobile-backend, ${RAMP_DAYS}-day ramp) by build rate, ${seeds} seeds; trend options ${
      process.env.TREND_OPTIONS ?? 'as shipped'
    }`,
  );
  console.log('builds/day  bound z@24h  found ≤24 h  found ≤48 h  median h  false alarms/project-month');
  for (const rate of RATES) {
    const runs = Array.from({ length: seeds }, (_, seed) => run(rate, seed));
    const hours = runs.map((r) => r.hoursToDetect ?? Infinity).sort((a, b) => a - b);
    const within = (h: number) => hours.filter((x) => x <= h).length;
    const median = hours[(hours.length - 1) >> 1]!;
    const normalDays = NORMAL_DAYS - FALSE_ALARMS_FROM_DAY;
    const perMonth = (runs.reduce((s, r) => s + r.falseAlarms, 0) / (seeds * normalDays)) * 30;
    console.log(
      [
        String(rate).padStart(10),
        boundZ(rate).toFixed(1).padStart(11),
        `${within(24)}/${seeds}`.padStart(11),
        `${within(48)}/${seeds}`.padStart(11),
        (Number.isFinite(median) ? median.toFixed(1) : 'not found').padStart(8),
        perMonth.toFixed(2).padStart(27),
      ].join('  '),
    );
  }
}

main();
