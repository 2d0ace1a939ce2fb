/**
 * Cost of the detector's daily channels (`DailyRecurrence`, `SeasonalResidual`) per row, and their
 * memory, for eight days of rows at 5-minute and at 1-second spacing (the densest a CloudWatch metric
 * gets). `npm run bench:channels`. The forest's own cost is `npm run bench:rcf`.
 */
import { DailyRecurrence, SeasonalResidual, SeededRandom } from '../sagemaker/rcf';

function measure(label: string, spacingMs: number): void {
  const rows = Math.round((8 * 86_400_000) / spacingMs);
  const random = new SeededRandom(1);
  const values = Array.from(
    { length: rows },
    (_, i) => 50 + 30 * Math.sin((2 * Math.PI * i * spacingMs) / 86_400_000) + random.next() * 5,
  );
  const before = process.memoryUsage().heapUsed;
  const recurrence = new DailyRecurrence(1);
  const seasonal = new SeasonalResidual();
  const start = process.hrtime.bigint();
  for (let i = 0; i < rows; i++) {
    const time = i * spacingMs;
    // As in the detector: every row is recorded; about one in a hundred is asked about (score ≥ 0.3).
    recurrence.observe(time, [values[i] as number], random.next() * 3, i % 100 === 0);
    seasonal.process(time, values[i] as number);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const heap = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  console.log(
    `${label.padEnd(10)} ${rows.toLocaleString('en-US').padStart(9)} rows  ${((seconds * 1e6) / rows).toFixed(1).padStart(5)} µs/row  ` +
      `${seconds.toFixed(1).padStart(5)} s  heap ${heap >= 0 ? '+' : ''}${heap.toFixed(0)} MiB`,
  );
}

console.log('Daily channels over 8 days of rows (both channels, one value column):');
measure('5 minutes', 300_000);
measure('1 minute', 60_000);
measure('1 second', 1_000);
