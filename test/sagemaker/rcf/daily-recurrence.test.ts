import { DailyRecurrence } from '../../../sagemaker/rcf';

const FIVE_MINUTES = 300_000;
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

/** Feeds `days` days of 5-minute rows at level 10 with a spike of `height` at each given time. */
function feed(
  recurrence: DailyRecurrence,
  days: number,
  spikes: readonly { at: number; height: number; raw?: number }[],
): void {
  for (let time = START; time < START + days * DAY; time += FIVE_MINUTES) {
    const spike = spikes.find((s) => s.at === time);
    recurrence.observe(time, [10 + (spike?.height ?? 0)], spike ? (spike.raw ?? 5) : 1, false);
  }
}

const at = (day: number, hour: number, minute = 0): number =>
  START + day * DAY + (hour * 60 + minute) * 60_000;

describe('DailyRecurrence', () => {
  it('calls a spike at the time of day of spikes on two earlier days a repeat', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 3, [
      { at: at(1, 3), height: 5 },
      { at: at(2, 3, 10), height: 5 },
    ]);
    expect(recurrence.observe(at(3, 3, 5), [15], 5, true)).toBe(true);
  });

  it('does not call a spike seen at that time on only one earlier day a repeat', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 3, [{ at: at(2, 3), height: 5 }]);
    expect(recurrence.observe(at(3, 3), [15], 5, true)).toBe(false);
  });

  it('does not call a spike more than 60 minutes from the earlier ones a repeat', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 3, [
      { at: at(1, 3), height: 5 },
      { at: at(2, 3), height: 5 },
    ]);
    expect(recurrence.observe(at(3, 4, 5), [15], 5, true)).toBe(false);
  });

  it('does not call a spike much larger than the earlier ones a repeat', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 3, [
      { at: at(1, 3), height: 5 },
      { at: at(2, 3), height: 5 },
    ]);
    expect(recurrence.observe(at(3, 3), [10 + 5 / 0.8 + 0.5], 5, true)).toBe(false);
  });

  it('does not call a drop at the time of earlier spikes a repeat', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 3, [
      { at: at(1, 3), height: 5 },
      { at: at(2, 3), height: 5 },
    ]);
    expect(recurrence.observe(at(3, 3), [5], 5, true)).toBe(false);
  });

  it('does not call a spike a repeat when the earlier ones scored far lower in the forest', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 3, [
      { at: at(1, 3), height: 5, raw: 2 },
      { at: at(2, 3), height: 5, raw: 2 },
    ]);
    expect(recurrence.observe(at(3, 3), [15], 5, true)).toBe(false);
  });

  it('does not look further back than the days it keeps', () => {
    const recurrence = new DailyRecurrence(1, { days: 3 });
    feed(recurrence, 6, [
      { at: at(1, 3), height: 5 },
      { at: at(2, 3), height: 5 },
    ]);
    expect(recurrence.observe(at(6, 3), [15], 5, true)).toBe(false);
  });

  it('calls a spike at the time of the week of spikes on two earlier weeks a repeat (a Sunday backup)', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 14, [
      { at: at(0, 2), height: 5 },
      { at: at(7, 2, 20), height: 5 },
    ]);
    expect(recurrence.observe(at(14, 2), [15], 5, true)).toBe(true);
  });

  it('does not call a weekly spike a repeat when the weekly check is off', () => {
    const recurrence = new DailyRecurrence(1, { weeks: 0 });
    feed(recurrence, 14, [
      { at: at(0, 2), height: 5 },
      { at: at(7, 2), height: 5 },
    ]);
    expect(recurrence.observe(at(14, 2), [15], 5, true)).toBe(false);
  });

  it('does not call a spike seen at that time of the week only once before a repeat', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 14, [{ at: at(7, 2), height: 5 }]);
    expect(recurrence.observe(at(14, 2), [15], 5, true)).toBe(false);
  });

  it('forgets every day it kept when the time goes backwards', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 3, [
      { at: at(1, 3), height: 5 },
      { at: at(2, 3), height: 5 },
    ]);
    recurrence.observe(at(0, 0), [10], 1, false);
    expect(recurrence.observe(at(3, 3), [15], 5, true)).toBe(false);
  });

  it('skips a row less than a day earlier than the last (a clock set back an hour) and keeps its days', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 3, [
      { at: at(1, 3), height: 5 },
      { at: at(2, 3), height: 5 },
    ]);
    // Daylight saving ends: the last hour of day 2 comes again.
    expect(recurrence.observe(at(2, 23), [15], 5, true)).toBe(false);
    expect(recurrence.observe(at(3, 3), [15], 5, true)).toBe(true);
  });

  it('keeps at most maxRows rows, forgetting the oldest', () => {
    const recurrence = new DailyRecurrence(1, { maxRows: 400 });
    feed(recurrence, 3, [
      { at: at(1, 3), height: 5 },
      { at: at(2, 3), height: 5 },
    ]);
    expect(recurrence.observe(at(3, 3), [15], 5, true)).toBe(false);
  });

  it('answers false without searching when not asked, and still records the row', () => {
    const recurrence = new DailyRecurrence(1);
    feed(recurrence, 2, [{ at: at(1, 3), height: 5 }]);
    expect(recurrence.observe(at(2, 3), [15], 5, false)).toBe(false);
    expect(recurrence.observe(at(3, 3), [15], 5, true)).toBe(true);
  });

  it('names the invalid option', () => {
    expect(() => new DailyRecurrence(1, { minDays: 8 })).toThrow(
      'minDays must be an integer in [1, days], got 8',
    );
    expect(() => new DailyRecurrence(1, { toleranceMinutes: 720 })).toThrow(
      'toleranceMinutes must be in [0, 720), got 720',
    );
    expect(() => new DailyRecurrence(1, { levelRows: 0 })).toThrow(
      'levelRows must be a positive integer, got 0',
    );
    expect(() => new DailyRecurrence(1, { weeks: -1 })).toThrow(
      'weeks must be a non-negative integer, got -1',
    );
    expect(() => new DailyRecurrence(1, { minWeeks: 5 })).toThrow(
      'minWeeks must be an integer in [1, weeks], got 5',
    );
  });
});
