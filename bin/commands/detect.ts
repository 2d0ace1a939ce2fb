import { once } from 'node:events';
import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';

import { Command, InvalidArgumentError } from 'commander';

import {
  DETECTOR_DEFAULTS,
  InvalidPointError,
  parseSeriesTime,
  SeriesCsvError,
  SeriesCsvParser,
  SeriesRow,
  StreamingDetector,
} from '../../sagemaker/rcf';
import { UsageError } from '../cli-errors';

/** Rows scored together: enough for the forest's block scoring, few enough to stream. */
const ROWS_PER_CHUNK = 1024;

export interface DetectCommandOptions {
  readonly input: string;
  readonly output: string;
  readonly trees: number;
  readonly samples: number;
  readonly shingle: number;
  readonly seed: number;
  /** `--no-daily`: score without the daily channels even when the timestamps are times. @default true */
  readonly daily?: boolean;
}

/** `pipemend detect`: streams a `timestamp,value[,value...]` CSV through the RCF detector. */
export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description(
      'Score every row of a timestamp,value[,value...] CSV for anomalies (streaming Random Cut Forest)',
    )
    .requiredOption('--input <file>', 'CSV of timestamp,value[,value...] rows; a header line is allowed')
    .requiredOption(
      '--output <file>',
      "CSV to write ('-' for standard output): timestamp,value[,value...],anomaly_score with the score in [0, 1]",
    )
    .option('--trees <n>', 'trees in the forest', integerOption(1, 1000), DETECTOR_DEFAULTS.numTrees)
    .option(
      '--samples <n>',
      'points sampled per tree',
      integerOption(4, 100_000),
      DETECTOR_DEFAULTS.sampleSize,
    )
    .option(
      '--shingle <n>',
      'consecutive rows per forest point',
      integerOption(1, 1000),
      DETECTOR_DEFAULTS.shingleSize,
    )
    .option('--seed <n>', 'random seed (same seed, same scores)', integerOption(0, 2 ** 31 - 1), 0)
    .option(
      '--no-daily',
      'ignore the time of day: alarm on every repeat of a daily spike, and do not score a daily rise that does not come',
    )
    .action(async (options: DetectCommandOptions) => {
      await detectFile(options);
    });
}

/**
 * Streams the input through a detector into a temporary file next to the output, renamed into
 * place only when every row was valid: bad input never leaves a half-written result behind.
 * `--output -` streams to standard output instead (a bad row then stops the stream where it is).
 */
export async function detectFile(
  options: DetectCommandOptions,
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<{ rows: number }> {
  assertReadableFile(options.input);
  const toStdout = options.output === '-';
  if (!toStdout) assertWritableDirectory(options.output);
  const parser = new SeriesCsvParser(options.input);
  const temporary = `${options.output}.${process.pid}.partial`;
  const out = toStdout ? stdout : createWriteStream(temporary, { encoding: 'utf8' });
  const lines = createInterface({
    input: createReadStream(options.input, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  });
  let detector: StreamingDetector | undefined;
  let rows = 0;
  let lineNumber = 0;
  const pending: { row: SeriesRow; lineNumber: number }[] = [];
  const flush = async (): Promise<void> => {
    if (!detector || pending.length === 0) return;
    const scores = scoreChunk(detector, pending, options.input);
    let text = '';
    pending.forEach(({ row }, i) => {
      text += `${row.timestamp},${row.values.join(',')},${formatScore(scores[i] as number)}\n`;
    });
    await write(out, text);
    rows += pending.length;
    pending.length = 0;
  };
  try {
    for await (const line of lines) {
      const row = parser.parseLine(line, ++lineNumber);
      if (!row) continue;
      if (!detector) {
        detector = new StreamingDetector(row.values.length, {
          numTrees: options.trees,
          sampleSize: options.samples,
          shingleSize: options.shingle,
          seed: options.seed,
          ...(options.daily === false ? { recurrence: false, seasonal: false } : {}),
        });
        await write(out, `${parser.timestampName},${parser.valueNames.join(',')},anomaly_score\n`);
      }
      pending.push({ row, lineNumber });
      if (pending.length === ROWS_PER_CHUNK) await flush();
    }
    parser.finish();
    await flush();
    if (toStdout) return { rows };
    out.end();
    await finished(out);
    renameSync(temporary, options.output);
    return { rows };
  } catch (error) {
    lines.close();
    if (!toStdout) {
      out.end();
      await finished(out).catch(() => undefined);
      rmSync(temporary, { force: true });
    }
    throw error;
  }
}

/** Scores a chunk of rows in order; a row the forest cannot take is named by file and line. */
function scoreChunk(
  detector: StreamingDetector,
  chunk: readonly { row: SeriesRow; lineNumber: number }[],
  file: string,
): number[] {
  try {
    return detector.processAll(
      chunk.map(({ row }) => row.values),
      chunk.map(({ row }) => parseSeriesTime(row.timestamp)),
    );
  } catch (error) {
    if (error instanceof InvalidPointError && error.index !== undefined) {
      throw new SeriesCsvError(`${file} line ${chunk[error.index]?.lineNumber}: ${error.problem}`);
    }
    throw error;
  }
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

function formatScore(score: number): string {
  return String(Math.round(score * 1e6) / 1e6);
}

function assertReadableFile(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot be read (${code ?? String(error)})`,
    );
  }
  if (!isFile) throw new Error(`${file}: not a regular file`);
}

/** The output's folder must exist: say so before reading the input, not as a stream 'error' event. */
function assertWritableDirectory(file: string): void {
  const directory = path.dirname(path.resolve(file));
  let isDirectory = false;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch {
    // Reported below: a missing folder and a file in its place get the same message.
  }
  if (!isDirectory) throw new UsageError(`--output ${file}: folder ${directory} does not exist`);
}

function integerOption(minimum: number, maximum: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || parsed < minimum || parsed > maximum) {
      throw new InvalidArgumentError(`must be an integer between ${minimum} and ${maximum}, got '${value}'`);
    }
    return parsed;
  };
}
