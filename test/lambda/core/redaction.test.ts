import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { sharedDataPath } from '../../../bench/shared-data';
import { redactSecrets, shannonEntropy } from '../../../lambda/core/redaction';

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

  test('computes Shannon entropy in bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });
});
