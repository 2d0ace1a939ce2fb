/**
 * Behaviour probes for the detector's daily channels on series shaped like real service metrics that
 * the NAB subset does not have: a weekday/weekend rhythm, and a lasting change of level. Synthetic and
 * seeded, so every figure is the same on every run. `npm run bench:probes`.
 *
 * 1. Weekly rhythm: ten weeks of 30-minute rows, busy weekdays, quiet weekends, 6 % noise, with one
 *    weekday holiday (looks like a Sunday) and one evening surge to 1.8×. Both should alarm; no
 *    weekend should.
 * 2. New level: sixteen days of 5-minute rows on a daily sine with ±3 noise; from day 9 every value is
 *    multiplied by a factor. The change should alarm; the days that follow should not.
 * 3. Weekly job: eight weeks of 5-minute rows at a noisy level with a Sunday 02:00 burst (a backup).
 *    Its first Sundays may alarm; the ones after should not.
 * 4. Nightly batch: three weeks of 5-minute rows that are exactly 0 except a 02:00-03:00 batch writing
 *    4-6 MB a row (disk writes of a nightly job). Its first nights may alarm; the ones after should not.
 * 5. Daily counts: eight weeks of 5-minute Poisson counts around a daily sine (mentions, requests),
 *    without events and with a 3-10x burst of 1-3 hours every 1-7 days. Alarms after the first 15 %
 *    (NAB's probation): bursts caught within 3 hours, and other alarms. Then the same with
 *    overdispersed (Gamma-Poisson) counts, as bursty as real ones: every alarm without events is false.
 * 6. Growth: four weeks of 5-minute rows on a daily sine whose level grows 2 % a day (a growing
 *    service). Every day's peak is a new high; none is an anomaly.
 * 7. Short drop: sixteen days of 5-minute rows on a daily cycle from 5 to 95; on day 12 at 13:00 the
 *    value drops to its night level (8 ± 2) for 10 to 60 minutes. A value the series has every night,
 *    at the wrong time of day: it should alarm within 30 minutes of the drop.
 */
import { DetectorOptions, SeededRandom, StreamingDetector } from '../sagemaker/rcf';

const MINUTE = 60_000;
const DAY = 86_400_000;
const SEEDS = [0, 1, 2];

interface Series {
  readonly times: number[];
  readonly rows: number[][];
}

/** Gaussian noise from the forest's own generator (Box–Muller), so the probe needs nothing else. */
function gaussian(random: SeededRandom): number {
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}

/** `days` of 5-minute rows from `start` (a UTC midnight); `valueAt` is called once per row, in order. */
function fiveMinuteRows(
  start: number,
  days: number,
  valueAt: (index: number, time: number) => number,
): Series {
  const times: number[] = [];
  const rows: number[][] = [];
  for (let i = 0; i < days * 288; i++) {
    const time = start + i * 5 * MINUTE;
    times.push(time);
    rows.push([valueAt(i, time)]);
  }
  return { times, rows };
}

/** Each probe's detector with both daily channels, and the forest alone (`pipemend detect --no-daily`). */
const CHANNEL_VARIANTS = [
  ['both daily channels', {}],
  ['forest only (--no-daily)', { seasonal: false, recurrence: false }],
] as const;

/** NAB's probation: the first 15 % of the rows, whose alarms are not counted. */
function probationEnd(series: Series): number {
  return series.times[Math.floor(0.15 * series.times.length)] as number;
}

function weeklySeries(holiday: number, surge: number): Series {
  const random = new SeededRandom(1);
  const start = Date.UTC(2014, 6, 1); // a Tuesday
  const times: number[] = [];
  const rows: number[][] = [];
  for (let time = start; time < start + 70 * DAY; time += 30 * MINUTE) {
    const date = new Date(time);
    const hour = date.getUTCHours() + date.getUTCMinutes() / 60;
    const weekday = date.getUTCDay();
    const quiet = weekday === 0 || weekday === 6 || (time >= holiday && time < holiday + DAY);
    const level = quiet
      ? 8000 + 6000 * Math.max(0, Math.sin(((hour - 9) / 24) * 2 * Math.PI))
      : 10000 + 14000 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
    const surging = Math.abs(time - surge) < 2 * 60 * MINUTE;
    times.push(time);
    rows.push([level * (1 + 0.06 * gaussian(random)) * (surging ? 1.8 : 1)]);
  }
  return { times, rows };
}

function levelSeries(factor: number, seed: number): Series {
  const random = new SeededRandom(seed + 10);
  return fiveMinuteRows(Date.UTC(2024, 0, 1), 16, (i) => {
    const minute = (i % 288) * 5;
    const level = 50 + 30 * Math.sin((2 * Math.PI * minute) / 1440);
    return level * (i >= 9 * 288 ? factor : 1) + (random.next() - 0.5) * 6;
  });
}

function alarms(series: Series, seed: number, options: DetectorOptions = {}): number[] {
  const scores = new StreamingDetector(1, { ...options, seed }).processAll(series.rows, series.times);
  return series.times.filter((_, i) => (scores[i] as number) >= 0.5);
}

const iso = (time: number): string => new Date(time).toISOString().slice(0, 16).replace('T', ' ');

function weeklyProbe(): void {
  const holiday = Date.UTC(2014, 7, 28); // a Thursday
  const surge = Date.UTC(2014, 8, 4, 18);
  const series = weeklySeries(holiday, surge);
  console.log('Weekly rhythm (30-minute rows, 10 weeks; holiday 2014-08-28, surge 2014-09-04 18:00):');
  for (const seed of SEEDS) {
    const found = alarms(series, seed);
    const weekend = found.filter((time) => [0, 6].includes(new Date(time).getUTCDay())).length;
    const caught = (from: number, to: number): string =>
      found.some((time) => time >= from && time < to) ? 'alarmed' : 'MISSED';
    console.log(
      `  seed ${seed}: ${found.length} alarms (${found.map(iso).join(', ')}); holiday ${caught(holiday, holiday + DAY)}, ` +
        `surge ${caught(surge - 2 * 60 * MINUTE, surge + 2 * 60 * MINUTE)}, on weekends ${weekend}`,
    );
  }
}

function levelProbe(): void {
  console.log('New level (5-minute rows, 16 days; the level changes at the start of day 9):');
  for (const factor of [1.3, 0.75]) {
    for (const [label, options] of CHANNEL_VARIANTS) {
      const perSeed = SEEDS.map((seed) => {
        const series = levelSeries(factor, seed);
        const change = series.times[9 * 288] as number;
        return alarms(series, seed, options).filter((time) => time >= change).length;
      });
      console.log(
        `  ×${factor} ${label.padEnd(25)} alarms from the change on, seeds 0-2: ${perSeed.join(', ')}`,
      );
    }
  }
}

function weeklyJobSeries(seed: number): Series {
  const random = new SeededRandom(seed + 20);
  // From a Sunday.
  return fiveMinuteRows(Date.UTC(2024, 0, 7), 56, (_, time) => {
    const date = new Date(time);
    const backup = date.getUTCDay() === 0 && date.getUTCHours() === 2 && date.getUTCMinutes() < 15;
    return 20 + 2 * gaussian(random) + (backup ? 40 : 0);
  });
}

function weeklyJobProbe(): void {
  console.log('Weekly job (5-minute rows, 8 weeks, a 15-minute burst every Sunday at 02:00):');
  for (const [label, options] of [
    ['weekly check on', {}],
    ['weekly check off', { recurrence: { weeks: 0 } }],
  ] as const) {
    const sundays = SEEDS.map((seed) => {
      const series = weeklyJobSeries(seed);
      const found = alarms(series, seed, options).filter((time) => {
        const date = new Date(time);
        return date.getUTCDay() === 0 && date.getUTCHours() === 2;
      });
      return found
        .map((time) => `week ${Math.floor((time - (series.times[0] as number)) / (7 * DAY))}`)
        .join(' ');
    });
    console.log(
      `  ${label.padEnd(17)} Sundays alarmed, seeds 0-2: ${sundays.map((weeks) => `[${weeks}]`).join(', ')}`,
    );
  }
}

function nightlyBatchSeries(seed: number): Series {
  const random = new SeededRandom(seed + 30);
  return fiveMinuteRows(Date.UTC(2024, 0, 1), 21, (i) => {
    const minute = (i % 288) * 5;
    return minute >= 120 && minute < 180 ? 5e6 * (0.8 + 0.4 * random.next()) : 0;
  });
}

function nightlyBatchProbe(): void {
  console.log('Nightly batch (5-minute rows, 3 weeks, exactly 0 except 02:00-03:00):');
  const nights = SEEDS.map((seed) => {
    const series = nightlyBatchSeries(seed);
    const start = series.times[0] as number;
    return alarms(series, seed).map((time) => `day ${Math.floor((time - start) / DAY)}`);
  });
  console.log(
    `  alarms, seeds 0-2: ${nights.map((days) => `${days.length} [${days.join(' ')}]`).join(', ')}`,
  );
}

function poisson(random: SeededRandom, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
  let count = 0;
  for (let p = random.next(); p > Math.exp(-mean); p *= random.next()) count++;
  return count;
}

/** A Gamma(shape, 1) draw (Marsaglia and Tsang's method; shape ≥ 1). */
function gamma(random: SeededRandom, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = gaussian(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random.next();
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Counts around a daily sine: Poisson, or with `dispersion` a Gamma–Poisson (negative binomial) whose
 * variance is mean + mean² / dispersion, as real mention and request counts are burstier than Poisson.
 */
function countsSeries(seed: number, withBursts: boolean, dispersion?: number): Series & { bursts: number[] } {
  const random = new SeededRandom(seed + 40);
  const start = Date.UTC(2015, 1, 26);
  const bursts: number[] = [];
  let nextBurst = withBursts ? start + (3 + random.next() * 4) * DAY : Infinity;
  let burstEnd = 0;
  let factor = 1;
  const series = fiveMinuteRows(start, 56, (i, time) => {
    if (time >= nextBurst) {
      bursts.push(time);
      burstEnd = time + (1 + random.next() * 2) * 60 * MINUTE;
      factor = 3 + random.next() * 7;
      nextBurst = time + (1 + random.next() * 6) * DAY;
    }
    const hour = ((i % 288) * 5) / 60;
    const mean = 20 + 15 * Math.sin(((hour - 8) / 24) * 2 * Math.PI);
    const noise = dispersion === undefined ? 1 : gamma(random, dispersion) / dispersion;
    return poisson(random, mean * noise * (time < burstEnd ? factor : 1));
  });
  return { ...series, bursts };
}

function countsProbe(dispersion?: number): void {
  const kind = dispersion === undefined ? 'Poisson' : `Gamma-Poisson (dispersion ${dispersion})`;
  console.log(`Daily counts (5-minute ${kind} counts, 8 weeks; after the first 15 %):`);
  for (const withBursts of [false, true]) {
    for (const [label, options] of CHANNEL_VARIANTS) {
      const perSeed = SEEDS.map((seed) => {
        const series = countsSeries(seed, withBursts, dispersion);
        const probation = probationEnd(series);
        const found = alarms(series, seed, options).filter((time) => time > probation);
        const bursts = series.bursts.filter((time) => time > probation);
        const caught = bursts.filter((burst) =>
          found.some((time) => time >= burst && time < burst + 3 * 60 * MINUTE),
        );
        const other = found.filter(
          (time) => !series.bursts.some((burst) => time >= burst && time < burst + 6 * 60 * MINUTE),
        );
        return withBursts
          ? `${caught.length}/${bursts.length} bursts, ${other.length} other`
          : `${other.length}`;
      });
      console.log(
        `  ${withBursts ? 'with bursts' : 'no events  '} ${label.padEnd(25)} seeds 0-2: ${perSeed.join('; ')}`,
      );
    }
  }
}

function growthProbe(): void {
  console.log(
    'Growth (5-minute rows, 4 weeks, a daily sine whose level grows 2 % a day; after the first 15 %):',
  );
  for (const [label, options] of CHANNEL_VARIANTS) {
    const perSeed = SEEDS.map((seed) => {
      const random = new SeededRandom(seed + 50);
      const series = fiveMinuteRows(Date.UTC(2024, 0, 1), 28, (i) => {
        const hour = ((i % 288) * 5) / 60;
        return 1.02 ** (i / 288) * (50 + 30 * Math.sin((hour / 24) * 2 * Math.PI)) + 2 * gaussian(random);
      });
      const probation = probationEnd(series);
      return alarms(series, seed, options).filter((time) => time > probation).length;
    });
    console.log(`  ${label.padEnd(25)} alarms, seeds 0-2: ${perSeed.join(', ')}`);
  }
}

function shortDropProbe(): void {
  console.log('Short drop (5-minute rows, 16 days; to the night level at 13:00 on day 12):');
  for (const minutes of [10, 15, 20, 30, 60]) {
    const caught = SEEDS.map((seed) => {
      const random = new SeededRandom(seed + 80);
      const start = Date.UTC(2024, 0, 1);
      const drop = start + 12 * DAY + 13 * 60 * MINUTE;
      const series = fiveMinuteRows(start, 16, (i, time) => {
        const hour = ((i % 288) * 5) / 60;
        const dropped = time >= drop && time < drop + minutes * MINUTE;
        return Math.max(
          0,
          dropped
            ? 8 + 2 * gaussian(random)
            : 50 - 45 * Math.cos((hour / 24) * 2 * Math.PI) + 2 * gaussian(random),
        );
      });
      const found = alarms(series, seed);
      return found.some((time) => time >= drop && time < drop + (minutes + 30) * MINUTE)
        ? 'alarmed'
        : 'MISSED';
    });
    console.log(`  ${String(minutes).padStart(2)} minutes, seeds 0-2: ${caught.join(', ')}`);
  }
}

weeklyProbe();
levelProbe();
weeklyJobProbe();
nightlyBatchProbe();
countsProbe();
countsProbe(2);
growthProbe();
shortDropProbe();
