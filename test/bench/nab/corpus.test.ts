import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { loadNabCorpus } from '../../../bench/nab/corpus';

describe('loadNabCorpus', () => {
  let root: string;
  const series = 'realExample/example.csv';

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pipemend-nab-'));
    mkdirSync(path.join(root, 'data', 'realExample'), { recursive: true });
    mkdirSync(path.join(root, 'labels'));
    writeFileSync(
      path.join(root, 'data', series),
      'timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,2\n2014-04-01 00:10:00,9\n',
    );
    writeFileSync(
      path.join(root, 'labels', 'combined_windows.json'),
      JSON.stringify({ [series]: [['2014-04-01 00:05:00.000000', '2014-04-01 00:10:00.000000']] }),
    );
    writeFileSync(
      path.join(root, 'labels', 'combined_labels.json'),
      JSON.stringify({ [series]: ['2014-04-01 00:10:00'] }),
    );
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads the series from the data folder and the labels from the labels folder (NAB layout)', () => {
    const [loaded] = loadNabCorpus(path.join(root, 'data'), path.join(root, 'labels'));
    expect(loaded).toEqual({
      name: series,
      timestamps: [Date.UTC(2014, 3, 1, 0, 0), Date.UTC(2014, 3, 1, 0, 5), Date.UTC(2014, 3, 1, 0, 10)],
      values: [1, 2, 9],
      windows: [[Date.UTC(2014, 3, 1, 0, 5), Date.UTC(2014, 3, 1, 0, 10)]],
      labels: 1,
    });
  });

  it('names the label file it could not find', () => {
    const labels = path.join(root, 'data');
    expect(() => loadNabCorpus(path.join(root, 'data'), labels)).toThrow(
      `No NAB label file at ${path.join(labels, 'combined_windows.json')}`,
    );
  });

  it('names a listed series that is not in the data folder', () => {
    rmSync(path.join(root, 'data', series));
    expect(() => loadNabCorpus(path.join(root, 'data'), path.join(root, 'labels'))).toThrow(
      `lists ${series}, which is not in ${path.join(root, 'data')}`,
    );
  });
});
