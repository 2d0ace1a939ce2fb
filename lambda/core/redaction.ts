/**
 * Secret redaction, applied to every log text before it leaves for a model, a topic or the data lake.
 * Build logs are full of credentials by accident (echoed environments, verbose HTTP clients, failed
 * `git clone https://user:token@...`); a model request is the last place they should travel to.
 *
 * Redaction keeps the line structure (a redacted private key still occupies its lines), so line numbers
 * chosen by the excerpt selector stay valid.
 */

export type SecretKind =
  | 'aws-access-key-id'
  | 'aws-session-token'
  | 'private-key'
  | 'bearer-token'
  | 'url-password'
  | 'assigned-password'
  | 'assigned-secret'
  | 'known-token'
  | 'jwt';

export interface RedactionResult {
  readonly text: string;
  /** How many secrets of each kind were replaced. */
  readonly counts: Partial<Record<SecretKind, number>>;
  readonly total: number;
}

const mask = (kind: SecretKind): string => `[REDACTED:${kind}]`;

const PEM_BLOCK =
  /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----[\s\S]*?(?:-----END \1-----|$(?![\s\S]))/g;

const PASSWORD_NAME = String.raw`[\w.-]*(?:password|passwd|passphrase|pwd)[\w.-]*`;
/** Names that always hold a secret: any real value is redacted. */
const SECRET_NAME = String.raw`[\w.-]*(?:secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?key)[\w.-]*`;
/** Names that often hold a secret (and often do not): only generated-looking values are redacted. */
const TOKEN_NAME = String.raw`[\w.-]*(?:token|credential|auth|session|signature)[\w.-]*`;
// `name=value`, `name: value`, `"name": "value"`, `--name value`, `NAME="value"`.
const assignment = (name: string): RegExp =>
  new RegExp(
    String.raw`((?:^|[\s,;{(&?"'])-{0,2}["']?${name}["']?\s*(?:[:=]|\s(?=["']?\S))\s*["']?)([^\s"',;&}]+)`,
    'gim',
  );
const PASSWORD_ASSIGNMENT = assignment(PASSWORD_NAME);
const SECRET_ASSIGNMENT = assignment(SECRET_NAME);
const TOKEN_ASSIGNMENT = assignment(TOKEN_NAME);

const SUBSTITUTIONS: ReadonlyArray<{
  kind: SecretKind;
  pattern: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}> = [
  {
    kind: 'aws-access-key-id',
    pattern: /\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
    replace: () => mask('aws-access-key-id'),
  },
  {
    // STS session tokens start with these base64 prefixes and run for hundreds of characters.
    kind: 'aws-session-token',
    pattern: /\b(?:FwoGZXIvYXdz|IQoJb3JpZ2lu|FQoGZXIvYXdz|AQoDYXdz)[A-Za-z0-9/+=]{20,}/g,
    replace: () => mask('aws-session-token'),
  },
  {
    kind: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    replace: () => mask('jwt'),
  },
  {
    kind: 'known-token',
    pattern:
      /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|npm_[A-Za-z0-9]{36}|sk-[A-Za-z0-9_-]{32,}|AIza[A-Za-z0-9_-]{35})\b/g,
    replace: () => mask('known-token'),
  },
  {
    kind: 'bearer-token',
    pattern: /\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi,
    replace: (_match, scheme = '', space = '') => `${scheme}${space}${mask('bearer-token')}`,
  },
  {
    kind: 'url-password',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s/@]+)@/gi,
    replace: (_match, head = '') => `${head}${mask('url-password')}@`,
  },
];

/** Shannon entropy of `value` in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** A value that looks generated (a key or token) rather than a word, a path or a placeholder. */
function looksLikeSecret(value: string): boolean {
  if (value.length < 16 || isPlaceholder(value) || !/\d/.test(value)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(value)).length;
  return classes >= 2 && shannonEntropy(value) >= 3;
}

function isPlaceholder(value: string): boolean {
  return value.startsWith('[REDACTED') || /^\$\{?\w+\}?$|^\*+$|^<[^>]*>$/.test(value);
}

/** Replaces every secret in `text` with a `[REDACTED:<kind>]` marker, keeping the number of lines. */
export function redactSecrets(text: string): RedactionResult {
  const counts: Partial<Record<SecretKind, number>> = {};
  const count = (kind: SecretKind): void => {
    counts[kind] = (counts[kind] ?? 0) + 1;
  };

  let result = text.replace(PEM_BLOCK, (block) => {
    count('private-key');
    const lineBreaks = block.match(/\r\n|\r|\n/g) ?? [];
    return [mask('private-key'), ...lineBreaks.map(() => mask('private-key'))].join('\n');
  });
  for (const { kind, pattern, replace } of SUBSTITUTIONS) {
    result = result.replace(pattern, (...args: unknown[]) => {
      count(kind);
      const groups = args.slice(1).filter((arg): arg is string => typeof arg === 'string');
      return replace(String(args[0]), ...groups);
    });
  }
  result = result.replace(PASSWORD_ASSIGNMENT, (match, head: string, value: string) => {
    if (isPlaceholder(value)) return match;
    count('assigned-password');
    return `${head}${mask('assigned-password')}`;
  });
  result = result.replace(SECRET_ASSIGNMENT, (match, head: string, value: string) => {
    if (value.length < 8 || isPlaceholder(value)) return match;
    count('assigned-secret');
    return `${head}${mask('assigned-secret')}`;
  });
  result = result.replace(TOKEN_ASSIGNMENT, (match, head: string, value: string) => {
    if (!looksLikeSecret(value)) return match;
    count('assigned-secret');
    return `${head}${mask('assigned-secret')}`;
  });
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return { text: result, counts, total };
}
