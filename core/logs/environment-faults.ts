/**
 * Signatures of faults in the build environment rather than in the code: the network, DNS, AWS
 * throttling, package/image registry rate limits and outages, the CI runner and the container daemon,
 * memory and disk. A build that failed on one of these is worth a clean rerun; a compiler error or a
 * failed assertion is not. Whether a fault found in a log is the failure's cause (and not a retried
 * warning or a test's printed output) is failure-cause.ts's question.
 */
import { redactSecrets } from './redaction';

export const ENVIRONMENT_FAULT_KINDS = [
  'ci-runner',
  'container-daemon',
  'network-timeout',
  'network-error',
  'dns-failure',
  'registry-outage',
  'throttling',
  'registry-rate-limit',
  'out-of-memory',
  'disk-full',
  'toolchain-crash',
] as const;
export type EnvironmentFaultKind = (typeof ENVIRONMENT_FAULT_KINDS)[number];

interface Signature {
  readonly kind: EnvironmentFaultKind;
  readonly pattern: RegExp;
}

// Ordered from most to least specific: a registry's "429 Too Many Requests" is a rate limit, not throttling.
const SIGNATURES: readonly Signature[] = [
  {
    // The CI runner itself: GitLab's system failures, Kubernetes executors whose pod never started,
    // images the runner could not pull, runners lost mid-job.
    kind: 'ci-runner',
    pattern:
      /Job failed \(system failure\)|timed out waiting for pod to start|pod .* (?:is|was) (?:not running|evicted)|ERROR: Preparation failed|failed to pull image|Failed to pull image|The runner (?:has|was) (?:lost|stopped)|runner system failure|lost communication with the server|The hosted runner .* lost|Received request to deprovision|no space on device for the job's image/i,
  },
  {
    kind: 'container-daemon',
    pattern:
      /Cannot connect to the Docker daemon|Is the docker daemon running|error during connect:|docker daemon is not running|containerd .*(?:connection refused|not running)/i,
  },
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
      /connection timed out|connect timed out|read timed out|i\/o timeout|Connection reset by peer|TLS handshake timeout|Client\.Timeout exceeded|ReadTimeout(?:Error)?\b|operation timed out|Could not transfer artifact.*(?:timed out|Connection reset)/i,
  },
  {
    // Network errors in words, as curl, git, Go, Python, cargo and package managers print them.
    kind: 'network-error',
    pattern:
      /Connection refused|network is unreachable|No route to host|server misbehaving|cannot assign requested address|SSL certificate problem|SSL error|SSL_ERROR_SYSCALL|unexpected EOF while reading|received early EOF|The remote end hung up unexpectedly|RPC failed; (?:curl|HTTP)|network failure seems to have happened|spurious network error|Failed to establish a new connection|Max retries exceeded with url|connection closed by remote host|Network Error|ENETUNREACH|EHOSTUNREACH|EPIPE\b/i,
  },
  {
    // A registry or mirror that answered with a server error or a half-synced index: an outage, not the change.
    kind: 'registry-outage',
    pattern:
      /\b(?:502 Bad Gateway|503 Service (?:Temporarily )?Unavailable|504 Gateway Time-?out)\b|received unexpected HTTP status: 5\d\d|(?:status|status code|HTTP status|returned error):? 5(?:0[234])\b|Internal Server Error.*(?:registry|repository|index)|error pulling image configuration|Hash Sum mismatch|At least one invalid signature was encountered|Mirror sync in progress|is not valid yet \(invalid for another/i,
  },
  {
    kind: 'out-of-memory',
    pattern:
      /JavaScript heap out of memory|java\.lang\.OutOfMemoryError|Cannot allocate memory|\bENOMEM\b|\bMemoryError\b|exit (?:code|status):? 137\b|signal: killed|signal: 9, SIGKILL|killed by signal 9|\bSIGKILL\b|OOMKilled|Out of memory: Kill(?:ed)? process|memory allocation of \d+ bytes failed|^Killed$|fatal error: runtime: out of memory|LLVM ERROR: out of memory|std::bad_alloc/i,
  },
  {
    // The compiler itself crashed (often on a corrupt incremental cache): a clean rerun is the remedy.
    kind: 'toolchain-crash',
    pattern:
      /the compiler unexpectedly panicked|internal compiler error|thread 'rustc' panicked|An exception has occurred in the compiler|The compiler crashed|compiler crashed with signal/i,
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
