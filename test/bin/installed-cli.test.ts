/**
 * The `pipemend` command as a user meets it: the bundle that `npm ci` and `npm pack` build, started
 * through the package's bin (`npx pipemend`), never through tsx.
 */
import { execFile, ExecFileException } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
// The Node.js running the tests runs the command too (CI puts Node.js 22 first on PATH).
const ENV = {
  ...process.env,
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  // No AWS credentials or region of the machine running the tests, and no instance metadata lookups.
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_CONFIG_FILE: path.join(tmpdir(), 'pipemend-no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(tmpdir(), 'pipemend-no-aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_REGION: '',
  AWS_DEFAULT_REGION: '',
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, [...args], { cwd, env: ENV, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (((error as ExecFileException).code as number | undefined) ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const npx = (...args: string[]): Promise<Run> => run('npx', ['--no-install', 'pipemend', ...args]);
/** The same bin without npx's start-up, for loops over many commands. */
const bin = (...args: string[]): Promise<Run> =>
  run(process.execPath, [path.join(ROOT, 'bin', 'pipemend.js'), ...args]);

let dir: string;

beforeAll(async () => {
  const built = await run('npm', ['run', 'build:cli', '--silent']);
  if (built.code !== 0) throw new Error(`npm run build:cli failed: ${built.stderr}`);
  dir = await mkdtemp(path.join(tmpdir(), 'pipemend-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('npx pipemend --help prints the usage and every command', async () => {
  const { code, stdout } = await npx('--help');
  expect(code).toBe(0);
  expect(stdout).toContain('Usage: pipemend [options] [command]');
  for (const command of ['detect', 'approve', 'deny', 'backfill', 'replay', 'excerpt', 'suggest']) {
    expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  }
});

test('every command answers --help', async () => {
  const { stdout } = await npx('--help');
  const commands = [...stdout.matchAll(/^ {2}([a-z-]+)(?= )/gm)].map((m) => m[1] as string);
  expect(commands.length).toBeGreaterThan(5);
  for (const command of commands.filter((name) => name !== 'help')) {
    const help = await bin(command, '--help');
    expect({ command, code: help.code }).toEqual({ command, code: 0 });
    expect(help.stdout).toContain(`Usage: pipemend ${command}`);
  }
});

test('npx pipemend approve --help names the execution argument', async () => {
  const { code, stdout } = await npx('approve', '--help');
  expect(code).toBe(0);
  expect(stdout).toContain('Usage: pipemend approve [options] <execution>');
});

test('detect without --input exits non-zero naming it', async () => {
  const { code, stderr } = await npx('detect', '--output', path.join(ROOT, 'never-written.csv'));
  expect(code).not.toBe(0);
  expect(stderr).toContain("required option '--input <file>' not specified");
});

test('detect scores a CSV into the output file', async () => {
  const input = path.join(dir, 'series.csv');
  const rows = Array.from({ length: 300 }, (_, i) => `${i},${10 + (i % 7)}`);
  await writeFile(input, `timestamp,value\n${rows.join('\n')}\n`);
  const output = path.join(dir, 'scores.csv');
  const { code } = await npx('detect', '--input', input, '--output', output);
  expect(code).toBe(0);
  const lines = (await readFile(output, 'utf8')).trim().split('\n');
  expect(lines[0]).toBe('timestamp,value,anomaly_score');
  expect(lines).toHaveLength(301);
});

test('detect --output - writes the scores to standard output and creates no file named -', async () => {
  const input = path.join(dir, 'small.csv');
  await writeFile(input, 'timestamp,value\n1,1\n2,2\n3,3\n');
  const { code, stdout } = await run(
    process.execPath,
    [path.join(ROOT, 'bin', 'pipemend.js'), 'detect', '--input', input, '--output', '-'],
    dir,
  );
  expect(code).toBe(0);
  expect(stdout.split('\n')[0]).toBe('timestamp,value,anomaly_score');
  await expect(readFile(path.join(dir, '-'))).rejects.toThrow('ENOENT');
});

test('detect into a folder that does not exist says which folder, without a crash', async () => {
  const input = path.join(dir, 'small.csv');
  await writeFile(input, 'timestamp,value\n1,1\n');
  const { code, stderr } = await npx('detect', '--input', input, '--output', '/missing-dir/o.csv');
  expect(code).toBe(1);
  expect(stderr.trim()).toBe(
    'pipemend: --output /missing-dir/o.csv: folder /missing-dir does not exist (see --help)',
  );
});

test('backfill without --bucket or --out says it needs one of them', async () => {
  const { code, stderr } = await npx('backfill', '--project', 'x');
  expect(code).toBe(1);
  expect(stderr).toContain('backfill needs --bucket <name> (the data lake in S3) or --out <dir>');
});

test('remediation-status refuses an unknown --default-mode, naming the allowed ones', async () => {
  const { code, stderr } = await npx('remediation-status', '--table', 't', '--default-mode', 'yolo');
  expect(code).not.toBe(0);
  expect(stderr).toContain("argument 'yolo' is invalid. Allowed choices are shadow, suggest, enforce.");
});

test('an AWS command without credentials says how to provide them', async () => {
  const { code, stderr } = await npx(
    'approve',
    'arn:aws:states:us-east-1:123456789012:execution:Remediation:abc',
  );
  expect(code).toBe(1);
  expect(stderr.trim()).toBe(
    'pipemend: AWS: no credentials found. Set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws configure` / `aws sso login`.',
  );
});
