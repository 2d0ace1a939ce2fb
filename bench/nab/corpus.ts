import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { parseSeriesCsv } from '../../sagemaker/rcf';

export interface NabSeries {
  /** `category/file.csv`, the key in NAB's label files. */
  readonly name: string;
  readonly timestamps: number[];
  readonly values: number[];
  readonly windows: [number, number][];
  readonly labels: number;
}

/** NAB writes timestamps as `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC. */
export function parseNabTimestamp(text: string): number {
  const millis = Date.parse(`${text.trim().slice(0, 19).replace(' ', 'T')}Z`);
  if (Number.isNaN(millis)) throw new Error(`Not a NAB timestamp: '${text}'`);
  return millis;
}

/**
 * Loads every series listed in `combined_windows.json` with its windows and label count. The series
 * are read from `dataDir` (`<category>/<file>.csv`), the label files from `labelsDir`: the same folder
 * in `../shared/data/nab`, `data/` and `labels/` in a checkout of NAB itself.
 */
export function loadNabCorpus(dataDir: string, labelsDir = dataDir): NabSeries[] {
  const windowsFile = path.join(labelsDir, 'combined_windows.json');
  const labelsFile = path.join(labelsDir, 'combined_labels.json');
  for (const file of [windowsFile, labelsFile]) {
    if (!existsSync(file)) throw new Error(`No NAB label file at ${file}`);
  }
  const windows = JSON.parse(readFileSync(windowsFile, 'utf8')) as Record<string, [string, string][]>;
  const labels = JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, string[]>;
  return Object.keys(windows)
    .sort()
    .map((name) => {
      const file = path.join(dataDir, name);
      if (!existsSync(file)) throw new Error(`${windowsFile} lists ${name}, which is not in ${dataDir}`);
      const rows = parseSeriesCsv(readFileSync(file, 'utf8'), file);
      return {
        name,
        timestamps: rows.map((row) => parseNabTimestamp(row.timestamp)),
        values: rows.map((row) => row.values[0] as number),
        windows: (windows[name] ?? []).map(([start, end]): [number, number] => [
          parseNabTimestamp(start),
          parseNabTimestamp(end),
        ]),
        labels: (labels[name] ?? []).length,
      };
    });
}
