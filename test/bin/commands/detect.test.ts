import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { Command } from 'commander';

import { registerDetectCommand } from '../../../bin/commands/detect';

const dir = mkdtempSync(path.join(tmpdir(), 'pipemend-detect-'));

function file(name: string, text: string): string {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
}

function series(count: number, spikeAt: number): string {
  const lines = ['timestamp,value'];
  for (let i = 0; i < count; i++) {
    const value = i === spikeAt ? 250 : 10 + Math.sin(i / 3) + ((i * 7919) % 13) / 13;
    lines.push(
      `2024-01-01T${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z,${value}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function run(...args: string[]): Promise<void> {
  const program = new Command()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerDetectCommand(program);
  await program.parseAsync(['node', 'pipemend', 'detect', ...args]);
}

function readScores(output: string): { header: string; rows: string[][] } {
  const [header = '', ...lines] = readFileSync(output, 'utf8').trim().split('\n');
  return { header, rows: lines.map((line) => line.split(',')) };
}

describe('pipemend detect', () => {
  test('writes timestamp,value,anomaly_score for every row with the spike scoring highest', async () => {
    const input = file('spike.csv', series(1200, 1000));
    const output = path.join(dir, 'spike-scores.csv');
    await run('--input', input, '--output', output, '--trees', '30', '--seed', '3');
    const { header, rows } = readScores(output);
    expect(header).toBe('timestamp,value,anomaly_score');
    expect(rows).toHaveLength(1200);
    const scores = rows.map((row) => Number(row[2]));
    expect(Math.min(...scores)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...scores)).toBeLessThanOrEqual(1);
    expect(scores.indexOf(Math.max(...scores))).toBe(1000);
    expect(rows[1000]?.slice(0, 2)).toEqual(['2024-01-01T16:40:00Z', '250']);
  });

  /**
   * Nine days of 5-minute rows with a spike at 03:00 every night, timestamps as NAB writes them; with
   * `repeatHourAfterDay`, the last hour of that day comes twice, as in a local-time export on the night
   * daylight saving ends.
   */
  function nightlySeries(repeatHourAfterDay?: number): string {
    const lines = ['timestamp,value'];
    const row = (i: number): string => {
      const value = i % 288 === 36 ? 25 : 10 + Math.sin(i / 3) + ((i * 7919) % 13) / 13;
      return `${new Date(Date.UTC(2024, 0, 1) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ')},${value}`;
    };
    for (let i = 0; i < 9 * 288; i++) {
      lines.push(row(i));
      if (repeatHourAfterDay !== undefined && i === (repeatHourAfterDay + 1) * 288 - 1) {
        for (let k = i - 11; k <= i; k++) lines.push(row(k));
      }
    }
    return file(`nightly-${repeatHourAfterDay ?? 'plain'}.csv`, `${lines.join('\n')}\n`);
  }

  test('reads the timestamps: a spike at the same time every night alarms on the first nights only', async () => {
    const input = nightlySeries();
    const output = path.join(dir, 'nightly-scores.csv');
    await run('--input', input, '--output', output, '--trees', '30', '--seed', '2');
    const nights = readScores(output).rows.filter((row) => row[0]?.endsWith(' 03:00:00'));
    expect(nights.slice(3).map((row) => Number(row[2]))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Number(nights[1]?.[2])).toBeGreaterThan(0.5);
  });

  test('keeps its days through an hour that comes twice (daylight saving in a local-time export)', async () => {
    const output = path.join(dir, 'nightly-repeated-hour.csv');
    await run('--input', nightlySeries(4), '--output', output, '--trees', '30', '--seed', '2');
    const nights = readScores(output).rows.filter((row) => row[0]?.endsWith(' 03:00:00'));
    expect(nights.slice(3).map((row) => Number(row[2]))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  test('--no-daily alarms on every nightly repeat of the spike', async () => {
    const output = path.join(dir, 'nightly-no-daily.csv');
    await run('--input', nightlySeries(), '--output', output, '--trees', '30', '--seed', '2', '--no-daily');
    const nights = readScores(output).rows.filter((row) => row[0]?.endsWith(' 03:00:00'));
    expect(nights.slice(3).every((row) => Number(row[2]) > 0.5)).toBe(true);
  });

  test('gives identical output for the same seed', async () => {
    const input = file('seeded.csv', series(500, 400));
    await run('--input', input, '--output', path.join(dir, 'a.csv'), '--trees', '10', '--seed', '9');
    await run('--input', input, '--output', path.join(dir, 'b.csv'), '--trees', '10', '--seed', '9');
    expect(readFileSync(path.join(dir, 'a.csv'), 'utf8')).toBe(readFileSync(path.join(dir, 'b.csv'), 'utf8'));
  });

  test('keeps several value columns and their header names', async () => {
    const input = file('multi.csv', 'time,cpu,memory\n1,0.5,10\n2,0.6,11\n3,0.4,12\n');
    const output = path.join(dir, 'multi-scores.csv');
    await run('--input', input, '--output', output, '--samples', '16');
    const { header, rows } = readScores(output);
    expect(header).toBe('time,cpu,memory,anomaly_score');
    expect(rows[2]).toEqual(['3', '0.4', '12', '0']);
  });

  test.each([
    ['a non-numeric cell', 'timestamp,value\n1,2\n2,abc\n', "line 3: column 2 'abc' is not a finite number"],
    ['NaN', 'timestamp,value\n1,2\n2,NaN\n', "line 3: column 2 'NaN' is not a finite number"],
    ['a wrong column count', 'timestamp,a,b\n1,2,3\n2,3\n', 'line 3: expected 3 columns, got 2'],
    ['an empty file', '', 'no data rows, expected timestamp,value[,value...] lines'],
    ['a header only', 'timestamp,value\n', 'no data rows, expected timestamp,value[,value...] lines'],
    [
      'a value beyond single precision',
      'timestamp,value\n1,2\n2,1e39\n',
      'line 3: Point value 0 is 1e+39, beyond the single-precision range (±3.4028e+38) trees store',
    ],
  ])('rejects %s naming the file and line, and writes no output', async (_name, text, message) => {
    const input = file(`bad-${readdirSync(dir).length}.csv`, text);
    const output = path.join(dir, `bad-out-${readdirSync(dir).length}.csv`);
    await expect(run('--input', input, '--output', output)).rejects.toThrow(
      `${input}${message.startsWith('line') ? ' ' : ': '}${message}`,
    );
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  test('rejects a missing input file', async () => {
    const missing = path.join(dir, 'missing.csv');
    await expect(run('--input', missing, '--output', path.join(dir, 'x.csv'))).rejects.toThrow(
      `${missing}: no such file`,
    );
  });

  test('rejects a non-integer option', async () => {
    await expect(run('--input', 'x', '--output', 'y', '--trees', 'many')).rejects.toThrow(
      "must be an integer between 1 and 1000, got 'many'",
    );
  });

  test('exits non-zero with the error on stderr from the real command line', async () => {
    const input = file('cli-bad.csv', 'timestamp,value\n1,2\n2,\n');
    const cli = path.join(__dirname, '../../../bin/cli.ts');
    const error = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      cli,
      'detect',
      '--input',
      input,
      '--output',
      path.join(dir, 'cli.csv'),
    ]).then(
      () => undefined,
      (failure: { code: number; stderr: string }) => failure,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain(`pipemend: ${input} line 3: column 2 '' is not a finite number`);
  });
});
