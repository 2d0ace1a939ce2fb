import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { Command } from 'commander';

import { registerExcerptCommand } from '../../../bin/commands/excerpt';

const dir = mkdtempSync(path.join(tmpdir(), 'pipemend-excerpt-'));
const failFile = path.join(dir, 'fail.log');
const passFile = path.join(dir, 'pass.log');
writeFileSync(
  failFile,
  ['2024-01-01T00:00:00Z ERROR: old noise 1', 'compiling', 'fatal: unable to access repo'].join('\n'),
);
writeFileSync(passFile, ['2024-01-02T00:00:00Z ERROR: old noise 2', 'compiling'].join('\n'));

async function run(...args: string[]): Promise<string> {
  let output = '';
  const program = new Command()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerExcerptCommand(program, (text) => {
    output += text;
  });
  await program.parseAsync(['node', 'pipemend', 'excerpt', ...args]);
  return output;
}

describe('pipemend excerpt', () => {
  test('prints the line numbers and text as JSON with --json', async () => {
    expect(JSON.parse(await run('--fail', failFile, '--pass', passFile, '--json'))).toEqual({
      lines: [3],
      text: 'fatal: unable to access repo',
    });
  });

  test('prints the excerpt text without --json', async () => {
    expect(await run('--fail', failFile)).toBe('ERROR: old noise 1\nfatal: unable to access repo\n');
  });

  test('honours --budget', async () => {
    expect(JSON.parse(await run('--fail', failFile, '--budget', '1', '--json')).lines).toHaveLength(1);
  });

  test('names the missing file', async () => {
    await expect(run('--fail', path.join(dir, 'absent.log'))).rejects.toThrow(
      `cannot read --fail log '${path.join(dir, 'absent.log')}': no such file`,
    );
  });

  test('names an unreadable --pass path', async () => {
    await expect(run('--fail', failFile, '--pass', dir)).rejects.toThrow(
      `cannot read --pass log '${dir}': is a directory`,
    );
  });

  test.each(['0', 'ten', '1001', '2.5'])('rejects --budget %s', async (budget) => {
    await expect(run('--fail', failFile, '--budget', budget)).rejects.toThrow(
      `must be an integer between 1 and 1000, got '${budget}'`,
    );
  });

  test('requires --fail', async () => {
    await expect(run()).rejects.toThrow(/required option '--fail <file>' not specified/);
  });
});
