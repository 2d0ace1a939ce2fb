import { SeasonalResidual, SeededRandom } from '../../../sagemaker/rcf';

const FIVE_MINUTES = 300_000;
const START = Date.UTC(2024, 0, 1);
const ROWS_PER_DAY = 288;

/**
 * Days of 5-minute rows: level 20 with noise (±2 unless told), 80 from 08:00 to 18:00 (a strong daily
 * profile).
 */
function dailyProfile(
  days: number,
  seed: number,
  skipRiseOnDay?: number | ((day: number) => boolean),
  noise = 4,
): { time: number; value: number }[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: days * ROWS_PER_DAY }, (_, i) => {
    const day = Math.floor(i / ROWS_PER_DAY);
    const minute = (i % ROWS_PER_DAY) * 5;
    const skipped = typeof skipRiseOnDay === 'function' ? skipRiseOnDay(day) : day === skipRiseOnDay;
    const high = minute >= 8 * 60 && minute < 18 * 60 && !skipped;
    return { time: START + i * FIVE_MINUTES, value: (high ? 80 : 20) + (random.next() - 0.5) * noise };
  });
}

function scoresOf(
  rows: readonly { time: number; value: number }[],
  channel = new SeasonalResidual(),
): number[] {
  return rows.map(({ time, value }) => channel.process(time, value));
}

describe('SeasonalResidual', () => {
  it('scores a daily rise that does not come near 1 from its second row: one row is not evidence', () => {
    const scores = scoresOf(dailyProfile(9, 1, 8));
    const riseDue = 8 * ROWS_PER_DAY + 96; // 08:00 on day 8
    expect(scores[riseDue]).toBeLessThan(0.5);
    expect(scores[riseDue + 1]).toBeGreaterThan(0.9);
  });

  it('weighs a few rows slightly off less than one far off: 3 rows at 5 scales are not an alarm', () => {
    const rows = dailyProfile(9, 14);
    const channel = new SeasonalResidual();
    scoresOf(rows.slice(0, 8 * ROWS_PER_DAY + 30), channel);
    const next = rows.slice(8 * ROWS_PER_DAY + 30, 8 * ROWS_PER_DAY + 33);
    // ±2 uniform noise: a scale of about 1.5, so +7.5 is 5 scales off.
    const scores = next.map(({ time, value }) => channel.process(time, value + 7.5));
    expect(Math.max(...scores)).toBeLessThan(0.5);
  });

  it('stays below 0.5 on the days that follow their profile', () => {
    const scores = scoresOf(dailyProfile(9, 2));
    expect(Math.max(...scores)).toBeLessThan(0.5);
  });

  it('does not score a one-row blip: the residual must persist', () => {
    const rows = dailyProfile(9, 3);
    rows[8 * ROWS_PER_DAY + 30] = { ...rows[8 * ROWS_PER_DAY + 30]!, value: 200 };
    expect(scoresOf(rows)[8 * ROWS_PER_DAY + 30]).toBeLessThan(0.5);
  });

  it('scores nothing on a series the daily profile does not explain', () => {
    const random = new SeededRandom(4);
    const rows = Array.from({ length: 9 * ROWS_PER_DAY }, (_, i) => ({
      time: START + i * FIVE_MINUTES,
      value: 50 + (random.next() - 0.5) * 40 - (i > 8 * ROWS_PER_DAY ? 30 : 0),
    }));
    expect(Math.max(...scoresOf(rows))).toBe(0);
  });

  it('takes a quiet weekend that a week earlier was quiet too as the weekly rhythm', () => {
    const weekend = (day: number): boolean => day % 7 >= 5;
    const scores = scoresOf(dailyProfile(21, 6, weekend));
    const lastWeekend = scores.slice(19 * ROWS_PER_DAY, 21 * ROWS_PER_DAY);
    expect(Math.max(...lastWeekend)).toBeLessThan(0.5);
  });

  it('still scores a weekday without its rise in a series with quiet weekends', () => {
    // A holiday: the Wednesday of the third week looks like a weekend day.
    const holiday = 16;
    const quiet = (day: number): boolean => day % 7 >= 5 || day === holiday;
    const scores = scoresOf(dailyProfile(21, 7, quiet, 20));
    const riseDue = holiday * ROWS_PER_DAY + 96;
    expect(Math.max(...scores.slice(riseDue, riseDue + 6))).toBeGreaterThan(0.5);
  });

  it('keeps the days it kept when the clock is set back an hour', () => {
    const rows = dailyProfile(9, 8, 8);
    // Daylight saving ends at the end of day 7: its last hour comes again.
    const repeatedHour = rows.slice(8 * ROWS_PER_DAY - 13, 8 * ROWS_PER_DAY - 1);
    const channel = new SeasonalResidual();
    scoresOf(rows.slice(0, 8 * ROWS_PER_DAY), channel);
    expect(Math.max(...scoresOf(repeatedHour, channel))).toBe(0);
    expect(channel.explains(3)).toBe(false);
    const scores = scoresOf(rows.slice(8 * ROWS_PER_DAY), channel);
    expect(Math.max(...scores.slice(96, 96 + 6))).toBeGreaterThan(0.9);
  });

  it('alarms once on a lasting new level, not again while the days catch up with it', () => {
    const shiftFrom = 8 * ROWS_PER_DAY + 30;
    const rows = dailyProfile(14, 9).map((row, i) =>
      i >= shiftFrom ? { ...row, value: row.value + 15 } : row,
    );
    const alarms = scoresOf(rows).filter((score) => score >= 0.5);
    expect(alarms).toHaveLength(1);
  });

  it('alarms again on a second event once the series has come back to its profile', () => {
    const scores = scoresOf(dailyProfile(12, 10, (day) => day === 8 || day === 10));
    const alarmDays = scores.flatMap((score, i) => (score >= 0.5 ? [Math.floor(i / ROWS_PER_DAY)] : []));
    expect(alarmDays).toEqual([8, 10]);
  });

  it('takes a nightly batch that varies in a series otherwise exactly 0 as its profile', () => {
    // Most residuals are exactly 0, so their median is too; the batch's own spread is the scale.
    const random = new SeededRandom(11);
    const rows = Array.from({ length: 14 * ROWS_PER_DAY }, (_, i) => {
      const minute = (i % ROWS_PER_DAY) * 5;
      const batch = minute >= 120 && minute < 180;
      return { time: START + i * FIVE_MINUTES, value: batch ? 5e6 * (0.8 + 0.4 * random.next()) : 0 };
    });
    expect(Math.max(...scoresOf(rows))).toBeLessThan(0.5);
  });

  it('explains a row near what its time of day predicts, not one far from it', () => {
    const channel = new SeasonalResidual();
    const rows = dailyProfile(9, 12);
    scoresOf(rows.slice(0, -1), channel);
    const last = rows[rows.length - 1]!;
    channel.process(last.time + FIVE_MINUTES, 21);
    expect(channel.explains(3)).toBe(true);
    channel.process(last.time + 2 * FIVE_MINUTES, 60);
    expect(channel.explains(3)).toBe(false);
  });

  it('explains nothing in a series the daily profile does not explain', () => {
    const random = new SeededRandom(13);
    const channel = new SeasonalResidual();
    for (let i = 0; i < 9 * ROWS_PER_DAY; i++)
      channel.process(START + i * FIVE_MINUTES, 50 + random.next() * 40);
    expect(channel.explains(3)).toBe(false);
  });

  it('forgets the days it kept when the time goes backwards', () => {
    const channel = new SeasonalResidual();
    scoresOf(dailyProfile(8, 5), channel);
    const again = scoresOf(dailyProfile(3, 5, 2), channel);
    expect(Math.max(...again)).toBe(0);
  });

  it('names the invalid option', () => {
    expect(() => new SeasonalResidual({ minStrength: 1 })).toThrow('minStrength must be in [0, 1), got 1');
    expect(() => new SeasonalResidual({ persistRows: 1 })).toThrow(
      'persistRows must be an integer of at least 2, got 1',
    );
    expect(() => new SeasonalResidual({ scaleRows: 10 })).toThrow(
      'scaleRows must be an integer of at least 288, got 10',
    );
    expect(() => new SeasonalResidual({ alarmLevel: 0 })).toThrow('alarmLevel must be in (0, 1], got 0');
  });
});
