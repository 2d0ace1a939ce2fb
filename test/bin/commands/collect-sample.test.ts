import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { Command } from 'commander';

import { registerCollectSampleCommand } from '../../../bin/commands/collect-sample';
import { FileDataLake } from '../../../local/file-data-lake';
import { SAMPLE_DIR } from '../../helpers/sample-events';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'pipemend-sample-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<string> {
  const output: string[] = [];
  const program = new Command().exitOverride();
  registerCollectSampleCommand(program, (text) => output.push(text));
  await program.parseAsync(['node', 'pipemend', 'collect-sample', ...args]);
  return output.join('');
}

test('collects the bundled sample into three builds, their feature rows and the pipeline transitions', async () => {
  const out = path.join(root, 'lake');
  const printed = await run('--out', out);
  const lake = new FileDataLake(out);
  expect(await lake.list('builds/')).toHaveLength(3);
  expect(await lake.list('features/')).toHaveLength(3);
  expect(await lake.list('pipelines/')).toHaveLength(3);
  expect(printed).toContain(
    'stored   web-build #318 SUCCEEDED in 156s pipeline web-pipeline/Build/BuildAndTest (missing: tests, utilization)',
  );
  expect(printed).toContain('rejected unsupported detail-type "CodeBuild Build Phase Change"');
  expect(printed).toContain('The data lake now holds 6 build objects:');
});

test('running it twice leaves the same objects (redelivery overwrites)', async () => {
  const out = path.join(root, 'lake');
  await run('--out', out);
  const first = await new FileDataLake(out).list('');
  await run('--out', out);
  expect(await new FileDataLake(out).list('')).toEqual(first);
});

test('an event file that is not JSON is reported as rejected, and the others still run', async () => {
  const events = path.join(root, 'events');
  await mkdir(events);
  await writeFile(path.join(events, 'a-broken.json'), '{ not json');
  await writeFile(
    path.join(events, 'b-ok.json'),
    await readFile(path.join(SAMPLE_DIR, 'events', '01-codebuild-succeeded.json'), 'utf8'),
  );
  const printed = await run('--events', events, '--out', path.join(root, 'lake'));
  expect(printed).toMatch(/a-broken\.json\n {2}rejected event is not a JSON object/);
  expect(printed).toMatch(/b-ok\.json\n {2}stored {3}api-build #41/);
});
