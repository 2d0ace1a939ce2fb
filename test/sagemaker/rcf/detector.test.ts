import { detect, normalTail, SeededRandom, StreamingDetector } from '../../../sagemaker/rcf';

function noise(count: number, seed: number): number[][] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => [
    10 + Math.sqrt(-2 * Math.log(random.nextOpen())) * Math.cos(2 * Math.PI * random.next()),
  ]);
}

describe('StreamingDetector', () => {
  it('gives an isolated spike a score near 1 and ordinary rows scores near 0', () => {
    const rows = noise(3000, 1);
    rows[2500] = [40];
    const scores = detect(rows, { numTrees: 30, seed: 1 });
    expect(scores[2500]).toBeGreaterThan(0.9);
    const others = scores.filter((_, i) => i !== 2500 && i > 300);
    expect(others.filter((score) => score >= 0.5).length / others.length).toBeLessThan(0.005);
  });

  it('keeps every score in [0, 1]', () => {
    const rows = noise(1500, 2).map(([value], i) => [(value ?? 0) + (i > 1000 ? 50 : 0)]);
    const scores = detect(rows, { numTrees: 20 });
    expect(Math.min(...scores)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...scores)).toBeLessThanOrEqual(1);
  });

  it('reports 0 for the rows right after a detection, then scores again', () => {
    const rows = noise(3000, 3);
    rows[2000] = [40];
    rows[2050] = [40];
    rows[2200] = [40];
    const scores = detect(rows, { numTrees: 30, suppression: 100 });
    expect(scores[2000]).toBeGreaterThan(0.5);
    expect(scores[2050]).toBe(0);
    expect(scores[2200]).toBeGreaterThan(0.5);
    const unsuppressed = detect(rows, { numTrees: 30, suppression: 0 });
    expect(unsuppressed[2050]).toBeGreaterThan(0.5);
  });

  it('grades rows in batches exactly as row by row, across warm-up and shingling', () => {
    const rows = noise(900, 5);
    rows[700] = [40];
    const options = { numTrees: 10, shingleSize: 2, seed: 3 };
    const single = new StreamingDetector(1, options);
    const expected = rows.map((row) => single.process(row));
    const batched = new StreamingDetector(1, options);
    expect([...batched.processAll(rows.slice(0, 100)), ...batched.processAll(rows.slice(100))]).toEqual(
      expected,
    );
  });

  it('is reproducible for a seed', () => {
    const rows = noise(800, 4);
    expect(detect(rows, { numTrees: 10, seed: 7 })).toEqual(detect(rows, { numTrees: 10, seed: 7 }));
  });

  it('names the invalid option', () => {
    expect(() => new StreamingDetector(1, { recentSize: 0 })).toThrow(
      'recentSize must be an integer in [1, historySize), got 0',
    );
    expect(() => new StreamingDetector(1, { detectionLevel: 2 })).toThrow(
      'detectionLevel must be in (0, 1], got 2',
    );
  });
});

describe('normalTail', () => {
  it('matches the standard normal tail', () => {
    expect(normalTail(0)).toBeCloseTo(0.5, 6);
    expect(normalTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalTail(-1.959964)).toBeCloseTo(0.975, 6);
  });
});

describe('StreamingDetector with row times', () => {
  const FIVE_MINUTES = 300_000;
  const START = Date.UTC(2024, 0, 1);
  // Nine days of 5-minute rows with a spike at 03:00 every day and a larger one at 15:00 on day 8.
  const rows = noise(9 * 288, 6);
  const times = rows.map((_, i) => START + i * FIVE_MINUTES);
  const nightly = Array.from({ length: 9 }, (_, day) => day * 288 + 36);
  for (const i of nightly) rows[i] = [25];
  const afternoon = 8 * 288 + 180;
  rows[afternoon] = [40];

  it('scores a spike that recurs at the same time every day 0 once two earlier days had it', () => {
    const scores = detect(rows, { numTrees: 30, seed: 2 }, times);
    expect(nightly.slice(3).map((i) => scores[i])).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('still alarms on a spike at another time of day', () => {
    const scores = detect(rows, { numTrees: 30, seed: 2 }, times);
    expect(scores[afternoon]).toBeGreaterThan(0.5);
  });

  it('alarms on every nightly spike without times or with the check off', () => {
    const withoutTimes = detect(rows, { numTrees: 30, seed: 2 });
    const checkOff = detect(rows, { numTrees: 30, seed: 2, recurrence: false }, times);
    expect(nightly.slice(3).every((i) => (withoutTimes[i] as number) > 0.5)).toBe(true);
    expect(checkOff).toEqual(withoutTimes);
  });

  it('grades timed rows in batches exactly as row by row', () => {
    const single = new StreamingDetector(1, { numTrees: 10, seed: 3 });
    const expected = rows.map((row, i) => single.process(row, times[i]));
    const batched = new StreamingDetector(1, { numTrees: 10, seed: 3 });
    const cut = 1000;
    expect([
      ...batched.processAll(rows.slice(0, cut), times.slice(0, cut)),
      ...batched.processAll(rows.slice(cut), times.slice(cut)),
    ]).toEqual(expected);
  });

  it('rejects a times array that does not match the rows', () => {
    expect(() => new StreamingDetector(1).processAll([[1], [2]], [0])).toThrow(
      'times must give one time per row: 1 times for 2 rows',
    );
  });
});

describe('StreamingDetector daily profile', () => {
  const FIVE_MINUTES = 300_000;
  const START = Date.UTC(2024, 0, 1);
  // Nine days of 5-minute rows, high from 08:00 to 18:00, except on day 8, when the rise never comes.
  const random = new SeededRandom(8);
  const rows = Array.from({ length: 9 * 288 }, (_, i) => {
    const minute = (i % 288) * 5;
    const high = minute >= 480 && minute < 1080 && Math.floor(i / 288) !== 8;
    return [(high ? 80 : 20) + (random.next() - 0.5) * 4];
  });
  const times = rows.map((_, i) => START + i * FIVE_MINUTES);
  const missingRise = Array.from({ length: 120 }, (_, k) => 8 * 288 + 96 + k);

  it('alarms when a daily rise does not come', () => {
    const scores = detect(rows, { numTrees: 30, seed: 1 }, times);
    expect(Math.max(...missingRise.map((i) => scores[i] as number))).toBeGreaterThan(0.5);
  });

  it('does not see it with the daily-profile channel off', () => {
    const scores = detect(rows, { numTrees: 30, seed: 1, seasonal: false }, times);
    expect(Math.max(...missingRise.map((i) => scores[i] as number))).toBeLessThan(0.5);
  });
});

describe('StreamingDetector on daily counts', () => {
  const FIVE_MINUTES = 300_000;
  const START = Date.UTC(2024, 0, 1);
  const DAYS = 21;
  const BURST = 18 * 288 + 150; // day 18, 12:30
  /** Poisson counts around a daily sine (mentions, requests), with a five-fold hour-long burst. */
  function counts(withBurst: boolean): number[][] {
    const random = new SeededRandom(21);
    return Array.from({ length: DAYS * 288 }, (_, i) => {
      const hour = ((i % 288) * 5) / 60;
      const burst = withBurst && i >= BURST && i < BURST + 12;
      const mean = (40 + 35 * Math.sin(((hour - 8) / 24) * 2 * Math.PI)) * (burst ? 5 : 1);
      let count = 0;
      for (let p = random.next(); p > Math.exp(-mean); p *= random.next()) count++;
      return [count];
    });
  }
  const times = Array.from({ length: DAYS * 288 }, (_, i) => START + i * FIVE_MINUTES);
  const alarms = (scores: number[]): number[] =>
    scores.flatMap((score, i) => (score >= 0.5 && i >= 4 * 288 ? [i] : []));

  it("gives no forest score to a count its time of day explains (the daily top's noise)", () => {
    const rows = counts(false);
    const forestOnly = alarms(detect(rows, { seed: 4, seasonal: false }, times));
    const withProfile = detect(rows, { seed: 4 }, times);
    expect(forestOnly.some((i) => (withProfile[i] as number) < 0.5)).toBe(true);
    expect(alarms(withProfile).length).toBeLessThan(forestOnly.length);
  });

  it('still alarms on a burst above what the time of day explains', () => {
    const scores = detect(counts(true), { seed: 4 }, times);
    expect(alarms(scores).some((i) => i >= BURST && i < BURST + 12)).toBe(true);
  });
});
