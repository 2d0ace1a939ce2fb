import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { Command } from 'commander';

import { registerReplayCommand } from '../../bin/commands/replay';
import { replayDataDirectory, replaySimulation } from '../../local/replay';
import { SMALL_SCENARIO } from '../local/simulation/small-scenario';

describe('pipemend replay', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pipemend-replay-cli-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** What `pipemend replay <args>` writes to stderr when it refuses its arguments. */
  async function refusal(...args: string[]): Promise<string> {
    const program = new Command().exitOverride();
    registerReplayCommand(program);
    let stderr = '';
    program.commands.forEach((command) =>
      command
        .exitOverride()
        .configureOutput({ writeErr: (text) => (stderr += text), writeOut: () => undefined }),
    );
    await expect(program.parseAsync(['node', 'pipemend', 'replay', ...args])).rejects.toThrow();
    return stderr;
  }

  it('rejects an unknown mode, naming the allowed ones', async () => {
    expect(await refusal('--mode', 'yolo')).toContain(
      "argument 'yolo' is invalid. Allowed choices are shadow, suggest, enforce.",
    );
  });

  it('rejects --trend that is not JSON, saying it expected JSON', async () => {
    expect(await refusal('--trend', 'features=buildSeconds')).toContain(
      "option '--trend <json>' argument 'features=buildSeconds' is invalid. expected JSON, got 'features=buildSeconds'",
    );
  });

  it('rejects an invalid trend setting, naming the field as the trend context key would', async () => {
    expect(await refusal('--trend', '{"minZ":1}')).toContain(
      'trend settings: minZ: Too small: expected number to be >=2',
    );
  });

  it('says what it expected when --data holds no build records', async () => {
    await expect(
      replayDataDirectory(path.join(dir, 'empty'), {
        mode: 'shadow',
        dataLakeDir: path.join(dir, 'lake-empty'),
      }),
    ).rejects.toThrow(
      "holds no build records (expected builds/project=<p>/date=<d>/<build-id>.json, as 'pipemend backfill --out' writes)",
    );
  });

  it('replays a data lake of build records (the backfill layout): scores every build, detects only', async () => {
    const source = path.join(dir, 'backfilled');
    const simulated = await replaySimulation(SMALL_SCENARIO, {
      mode: 'shadow',
      dataLakeDir: source,
      warmupDays: 10,
    });
    const replayed = await replayDataDirectory(source, {
      mode: 'shadow',
      dataLakeDir: path.join(dir, 'lake-replayed'),
      warmupDays: 10,
    });
    expect(replayed.source).toBe('data');
    expect(replayed.builds.map((b) => b.buildId).sort()).toEqual(
      simulated.builds.map((b) => b.buildId).sort(),
    );
    expect(replayed.trainings.length).toBe(simulated.trainings.length);
    expect(replayed.missingStages).toEqual([
      'remediation and suggestions: a --data replay has no CodeBuild to rerun or logs to read, so it detects only',
    ]);
  });
});
