import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { collectEvent } from '../../core/collection/collector';
import { FileDataLake } from '../../local/file-data-lake';
import { recordedCodeBuildPorts } from '../../local/recorded-codebuild';
import { sampleCodeBuild, sampleEvent } from '../helpers/sample-events';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pipemend-lake-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

test('writes the same keys as S3, as files under the directory', async () => {
  const store = new FileDataLake(root);
  await collectEvent(sampleEvent('01-codebuild-succeeded'), {
    ...recordedCodeBuildPorts(sampleCodeBuild()),
    store,
    emitMetrics: () => undefined,
  });
  expect(await store.list('builds/')).toEqual([
    'builds/project=api-build/date=2026-11-20/api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11.json',
  ]);
  const row = await readFile(
    path.join(
      root,
      'features/project=api-build/date=2026-11-20/api-build:5f0c1a9e-3b7d-4e52-9a61-0c2f4d8b7e11.csv',
    ),
    'utf8',
  );
  expect(row).toBe('298,4,23,6,41,3,212,2,5,0,94,43.3\n');
});

test('a rewrite replaces the file and leaves no temporary file behind', async () => {
  const store = new FileDataLake(root);
  await store.put('builds/a.json', 'first', 'application/json');
  await store.put('builds/a.json', 'second', 'application/json');
  expect(await store.get('builds/a.json')).toBe('second');
  expect(await readdir(path.join(root, 'builds'))).toEqual(['a.json']);
});

test('a missing key reads as undefined and an absent prefix lists nothing', async () => {
  const store = new FileDataLake(root);
  expect(await store.get('pipeline-links/none.json')).toBeUndefined();
  expect(await store.list('features/')).toEqual([]);
});

test('refuses a key that would escape the directory', async () => {
  await expect(new FileDataLake(root).put('../outside.json', '{}', 'application/json')).rejects.toThrow(
    /escapes the directory/,
  );
});
