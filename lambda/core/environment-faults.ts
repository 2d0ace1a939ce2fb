/**
 * Signatures of faults in the build environment rather than in the code: the network, DNS, AWS
 * throttling, package/image registry rate limits, memory and disk. A build that failed on one of these
 * is worth a clean rerun; a compiler error or a failed assertion is not.
 */
import { redactSecrets } from './redaction';

export const ENVIRONMENT_FAULT_KINDS = [
  'network-timeout',
  'dns-failure',
  'throttling',
  'registry-rate-limit',
  'out-of-memory',
  'disk-full',
] as const;
export type EnvironmentFaultKind = (typeof ENVIRONMENT_FAULT_KINDS)[number];

interface Signature {
  readonly kind: EnvironmentFaultKind;
  readonly pattern: RegExp;
}

// Ordered from most to least specific: a registry's "429 Too Many Requests" is a rate limit, not throttling.
const SIGNATURES: readonly Signature[] = [
  { kind: 'registry-rate-limit', pattern: /toomanyrequests|pull rate limit|\bE429\b/i },
  {
    // A bare "429" is too common (byte counts, line numbers): only an HTTP status reads as a rate limit.
    kind: 'registry-rate-limit',
    pattern:
      /\b429 Too Many Requests\b|\bstatus(?: code)?:? 429\b|\bHTTP\/[\d.]+ 429\b|\b(?:returned|received|got) (?:status )?429\b/i,
  },
  {
    kind: 'throttling',
    pattern:
      /ThrottlingException|TooManyRequestsException|RequestLimitExceeded|Rate exceeded|\bSlowDown\b|ProvisionedThroughputExceeded/,
  },
  // Error codes are matched case-sensitively as words: "ScopeNotFoundErrorTest" is not ENOTFOUND.
  { kind: 'dns-failure', pattern: /\b(?:ENOTFOUND|EAI_AGAIN)\b|getaddrinfo|UnknownHostException/ },
  {
    kind: 'dns-failure',
    pattern:
      /Could not resolve host|Temporary failure in name resolution|no such host|Name or service not known/i,
  },
  {
    kind: 'network-timeout',
    pattern: /\b(?:ETIMEDOUT|ESOCKETTIMEDOUT|ECONNRESET|ECONNREFUSED)\b|SocketTimeoutException/,
  },
  {
    kind: 'network-timeout',
    pattern:
      /connection timed out|connect timed out|read timed out|i\/o timeout|Connection reset by peer|TLS handshake timeout|Could not transfer artifact.*(?:timed out|Connection reset)/i,
  },
  {
    kind: 'out-of-memory',
    pattern:
      /JavaScript heap out of memory|java\.lang\.OutOfMemoryError|Cannot allocate memory|\bENOMEM\b|\bMemoryError\b|exit (?:code|status) 137\b|signal: killed|OOMKilled/i,
  },
  {
    kind: 'disk-full',
    pattern: /No space left on device|\bENOSPC\b|disk quota exceeded|There is not enough space on the disk/i,
  },
];

export interface EnvironmentFaultMatch {
  readonly kind: EnvironmentFaultKind;
  /** 1-based line number within the lines given. */
  readonly lineNumber: number;
  /**
   * The matching line, secrets redacted, trimmed and capped at 300 characters (logs are untrusted and can
   * be huge): it travels in the decision's reasons to the remediation record and its notification.
   */
  readonly line: string;
}

const MAX_LINE_LENGTH = 300;

/** Every line of the log that carries an environment-fault signature, the first signature per line. */
export function findEnvironmentFaults(logLines: readonly string[]): EnvironmentFaultMatch[] {
  const matches: EnvironmentFaultMatch[] = [];
  let redactedLines: readonly string[] | undefined;
  logLines.forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '') return;
    const signature = SIGNATURES.find(({ pattern }) => pattern.test(line));
    if (signature) {
      // The lines are redacted together (a private key spans lines), once, and only when one is reported.
      redactedLines ??= redactLines(logLines);
      // Redacted before capping: a cut could leave a secret no rule recognises.
      const redacted = (redactedLines[index] ?? '').trim();
      matches.push({ kind: signature.kind, lineNumber: index + 1, line: redacted.slice(0, MAX_LINE_LENGTH) });
    }
  });
  return matches;
}

/** `lines` with their secrets redacted, each still at its index. */
function redactLines(lines: readonly string[]): readonly string[] {
  const redacted = redactSecrets(lines.join('\n')).text.split(/\r\n|\r|\n/);
  // A line holding a line break of its own would shift the rest: redact such input line by line.
  return redacted.length === lines.length ? redacted : lines.map((line) => redactSecrets(line).text);
}

/** The distinct fault kinds found, most frequent first. */
export function summarizeEnvironmentFaults(
  matches: readonly EnvironmentFaultMatch[],
): EnvironmentFaultKind[] {
  const counts = new Map<EnvironmentFaultKind, number>();
  for (const { kind } of matches) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([kind]) => kind);
}
