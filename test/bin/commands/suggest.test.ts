import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { Command } from 'commander';

import { registerSuggestCommand } from '../../../bin/commands/suggest';

const fixtures = path.join(__dirname, '..', '..', 'fixtures', 'suggestions');
const failFile = path.join(fixtures, 'failed-build-with-secrets.log');
const passFile = path.join(fixtures, 'passed-build.log');

async function run(...args: string[]): Promise<string> {
  let output = '';
  const program = new Command()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerSuggestCommand(program, (text) => {
    output += text;
  });
  await program.parseAsync(['node', 'pipemend', 'suggest', ...args]);
  return output;
}

describe('pipemend suggest', () => {
  test('prints the offline suggestion with its numbered, redacted evidence', async () => {
    const output = await run('--fail', failFile, '--pass', passFile);
    expect(output).toMatch(/^TypeScript did not compile \[compilation, confidence 0\.60\]\n/);
    expect(output).toContain(
      "    16 | src/orders/service.ts(42,7): error TS2322: Type 'string' is not assignable to type 'number'.",
    );
    expect(output).not.toMatch(/planted|PLANTED|AKIAZ7/);
  });

  test('prints the Suggestion object with --json', async () => {
    const suggestion = JSON.parse(await run('--fail', failFile, '--json')) as Record<string, unknown>;
    expect(suggestion).toMatchObject({ source: 'offline', category: 'compilation', evidenceLines: [16] });
  });

  test('counts one redacted secret in the singular', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pipemend-suggest-'));
    const log = path.join(dir, 'one-secret.log');
    writeFileSync(
      log,
      "src/a.ts(1,1): error TS2322: Type 'string' is not assignable to type 'number'.\nDB_PASSWORD=Zq8vLk2mPw9xRt4n\n",
    );
    const output = await run('--fail', log);
    rmSync(dir, { recursive: true, force: true });
    expect(output).toContain('(1 secret redacted)');
  });

  test('names a missing log file', async () => {
    await expect(run('--fail', path.join(fixtures, 'absent.log'))).rejects.toThrow(
      /cannot read --fail log '.*absent\.log': no such file/,
    );
  });
});
