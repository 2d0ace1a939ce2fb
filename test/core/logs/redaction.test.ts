import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { sharedDataPath } from '../../../bench/shared-data';
import { redact, redactSecrets, shannonEntropy } from '../../../core/logs/redaction';
import { leaksAny, NEAR_MISSES, SECRET_CASES } from '../../fixtures/secrets/corpus';

const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'suggestions', 'failed-build-with-secrets.log');
const PLANTED = [
  'AKIAZ7PLANTEDKEY0001',
  'AKIAZ7PLANTEDKEY0002',
  'Pl4nTedSecretAcc3ssKey/wJalrXUtnFEMI+K7MD',
  'Pl4nTedSecretAcc3ssKey/bPxRfiCY+EXAMPLEK2',
  'IQoJb3JpZ2luX2VjPLANTEDsessionTOKEN0123456789abcdefABCDEF',
  'FwoGZXIvYXdzPLANTEDsessionTOKENinERRORblock0123456789',
  'planted-github-password-42',
  'planted-npm-password-77',
  'plantedBearerToken0123456789',
  'plantedBearerInErrorBlock0123456789',
  'planted-db-password',
  'pL4ntedApiKey9x8y7z6w5v4u3',
  'plantedPrivateKeyMaterial',
  'PLANTEDprivateKEYmaterial',
];

describe('redactSecrets', () => {
  test.each([
    ['an AWS access key id', 'key AKIAIOSFODNN7EXAMPLE here', 'key [REDACTED:aws-access-key-id] here'],
    ['a temporary access key id', 'ASIAY34FZKBOKMUTVV7A', '[REDACTED:aws-access-key-id]'],
    ['a session token', 'token FwoGZXIvYXdzEJr//////////wEaDKzz', 'token [REDACTED:aws-session-token]'],
    [
      'a bearer token',
      'Authorization: Bearer abc.def-ghi_jkl',
      'Authorization: Bearer [REDACTED:bearer-token]',
    ],
    [
      'a password in a URL',
      'git clone https://bot:hunter2@github.com/a/b',
      'git clone https://bot:[REDACTED:url-password]@github.com/a/b',
    ],
    ['a password assignment', 'DB_PASSWORD=hunter2', 'DB_PASSWORD=[REDACTED:assigned-password]'],
    ['a password option', 'mysql --password s3cret', 'mysql --password [REDACTED:assigned-password]'],
    [
      'a high-entropy secret next to a secret-like name',
      '"client_secret": "Zm9vYmFyYmF6cXV4MTIzNDU2"',
      '"client_secret": "[REDACTED:assigned-secret]"',
    ],
    ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', '[REDACTED:known-token]'],
  ])('replaces %s', (_kind, input, expected) => {
    expect(redactSecrets(input).text).toBe(expected);
  });

  test('replaces a PEM private key and keeps its number of lines', () => {
    const input = 'before\n-----BEGIN PRIVATE KEY-----\nMIIabc\ndef\n-----END PRIVATE KEY-----\nafter';
    const result = redactSecrets(input);
    expect(result.text.split('\n')).toHaveLength(6);
    expect(result.text).not.toMatch(/MIIabc|def\n/);
    expect(result.counts).toEqual({ 'private-key': 1 });
  });

  test('leaves ordinary build output, placeholders and low-entropy values alone', () => {
    const input = [
      '[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.8.0:compile',
      'tokenizer=SimpleTokenizer password=${DB_PASSWORD} secret: ****',
      '    at org.apache.maven.cli.MavenCli.execute (MavenCli.java:956)',
      'commit 4e8932e579d2e085ea2d9e6e88035d1ad0ad16a6',
    ].join('\n');
    expect(redactSecrets(input)).toEqual({ text: input, counts: {}, total: 0 });
  });

  test('removes every planted secret from the committed fixture log', () => {
    const result = redactSecrets(readFileSync(FIXTURE, 'utf8'));
    for (const secret of PLANTED) expect(result.text).not.toContain(secret);
    expect(result.total).toBeGreaterThanOrEqual(PLANTED.length - 1);
  });

  const realLog = sharedDataPath('ci-logs', 'cv_45', 'fail.log');
  (existsSync(realLog) ? test : test.skip)(
    `removes secrets planted in a real CI log (skipped when ${realLog} is absent)`,
    () => {
      const secretLines = readFileSync(FIXTURE, 'utf8').split('\n').slice(2, 26);
      const lines = readFileSync(realLog, 'utf8').split('\n');
      // Planted among ordinary output and appended to the real error lines.
      lines.splice(100, 0, ...secretLines);
      for (const index of [1840, 1845, 1850]) lines[index] = `${lines[index]} ${secretLines.join(' ')}`;
      const result = redactSecrets(lines.join('\n'));
      for (const secret of PLANTED) expect(result.text).not.toContain(secret);
      expect(result.text.split('\n')).toHaveLength(lines.length);
    },
  );

  test('the corpus holds at least 60 secret formats and 25 near misses, each under its own id', () => {
    expect(SECRET_CASES.length).toBeGreaterThanOrEqual(60);
    expect(NEAR_MISSES.length).toBeGreaterThanOrEqual(25);
    const ids = [...SECRET_CASES, ...NEAR_MISSES].map(({ id }) => id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test.each(SECRET_CASES.map((secretCase) => [secretCase.id, secretCase] as const))(
    'redacts the corpus format %s, keeping its lines',
    (_id, secretCase) => {
      // The control: the secret is in the text before redaction.
      expect(leaksAny(secretCase.text, secretCase.secrets)).toBe(true);
      const result = redactSecrets(secretCase.text);
      expect(leaksAny(result.text, secretCase.secrets)).toBe(false);
      expect(result.total).toBeGreaterThan(0);
      expect(result.text.split('\n')).toHaveLength(secretCase.text.split('\n').length);
    },
  );

  test('redacts 100% of the corpus and leaves every near miss unchanged', () => {
    const leaked = SECRET_CASES.filter(({ text, secrets }) => leaksAny(redact(text), secrets)).map(
      ({ id }) => id,
    );
    const altered = NEAR_MISSES.filter(({ text }) => redact(text) !== text).map(({ id }) => id);
    expect({ leaked, altered }).toEqual({ leaked: [], altered: [] });
  });

  test.each(NEAR_MISSES.map((nearMiss) => [nearMiss.id, nearMiss.text] as const))(
    'leaves the near miss %s unchanged',
    (_id, text) => {
      expect(redactSecrets(text)).toEqual({ text, counts: {}, total: 0 });
    },
  );

  test('is idempotent: redacting redacted text changes nothing and counts nothing', () => {
    const once = redact(SECRET_CASES.map(({ text }) => text).join('\n'));
    expect(redactSecrets(once)).toEqual({ text: once, counts: {}, total: 0 });
  });

  test('keeps every line break, whatever its kind (\\n, \\r\\n, a lone \\r)', () => {
    const text = SECRET_CASES.map(({ text }) => text).join('\n');
    for (const lineBreak of ['\r\n', '\r']) {
      const input = text.replace(/\n/g, lineBreak);
      const output = redact(input);
      expect(output.split(lineBreak)).toHaveLength(input.split(lineBreak).length);
      expect(output.replace(/[^\r\n]/g, '')).toBe(input.replace(/[^\r\n]/g, ''));
    }
  });

  test('masks a private key whose END line never came, and only its key lines', () => {
    const input = [
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'b3BlbnNzaC1rZXktdjEAAAAA',
      'QyNTUxOQAAACDxVmFsaWQ=',
      'Killed',
      'next',
    ];
    expect(redact(input.join('\n')).split('\n')).toEqual([
      '[REDACTED:private-key]',
      '[REDACTED:private-key]',
      '[REDACTED:private-key]',
      'Killed',
      'next',
    ]);
  });

  test.each([
    ['a long run of assignments', 'password='.repeat(30_000)],
    ['a long run of URL schemes', 'https://a:'.repeat(30_000)],
    ['a long word', 'a'.repeat(300_000)],
    ['a long token-like run', 'ghp_'.repeat(75_000)],
    ['repeated key headers without an END', '-----BEGIN PRIVATE KEY-----\n'.repeat(10_000)],
    [
      'key headers with one END far away',
      `${'-----BEGIN PRIVATE KEY-----\nx\n'.repeat(10_000)}-----END PRIVATE KEY-----`,
    ],
    ['a long command line', `mysql ${'-x '.repeat(100_000)}`],
    ['a long cookie header', `Cookie: ${'a=b; '.repeat(60_000)}`],
    ['long flag runs', `docker login ${'--password-stdin '.repeat(20_000)}`],
  ])('stays linear on adversarial input: %s', (_name, input) => {
    // Catastrophic backtracking takes minutes on inputs like these; linear redaction, milliseconds.
    const started = Date.now();
    const output = redact(input);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(output.split('\n')).toHaveLength(input.split('\n').length);
  });

  test('computes Shannon entropy in bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });
});
