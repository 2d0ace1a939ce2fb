/**
 * The offline suggester: the error-signature library turned into a suggestion, with no model. Used when
 * Bedrock is not configured, over its token budget or fails, and by the local replay.
 */
import { FallbackReason, Suggestion } from './suggestion';
import { EnvironmentFaultKind, findEnvironmentFaults } from '../logs/environment-faults';
import { ERROR_SIGNATURES, ErrorSignature, FailureCategory } from '../logs/error-signatures';
import { LogExcerpt } from '../logs/log-excerpt';
import { RedactedExcerpt, selectRedactedExcerpt } from '../logs/redacted-excerpt';

export interface BuildIdentity {
  readonly buildId: string;
  readonly buildArn?: string;
  readonly projectName?: string;
}

/** What remediation decided about the same build, so that the suggestion never contradicts it. */
export interface DecisionContext {
  /** RERUN_CLEAN, ROLLBACK, NOTIFY or NONE. */
  readonly action: string;
  readonly reasons: readonly string[];
}

export interface SuggestFixInput {
  readonly failLog: string;
  readonly passLog?: string;
  /** Remediation's decision on the same build, when known. */
  readonly decision?: DecisionContext;
  readonly build?: BuildIdentity;
  /** @default 50 */
  readonly budget?: number;
  /** @default new Date() */
  readonly now?: Date;
}

/** Redacts both logs and selects the excerpt from them: the one way logs enter the suggestion path. */
export function prepareExcerpt(
  failLog: string,
  passLog: string | undefined,
  budget?: number,
): RedactedExcerpt {
  return selectRedactedExcerpt(failLog, passLog, { budget });
}

/** A suggestion for a failed build from its log (and the last passing build's, when known). */
export function suggestFix(input: SuggestFixInput): Suggestion {
  const { excerpt, redactedSecrets } = prepareExcerpt(input.failLog, input.passLog, input.budget);
  return offlineSuggestion({
    excerpt,
    diffedAgainstPassingBuild: input.passLog !== undefined,
    redactedSecrets,
    build: input.build ?? { buildId: 'unknown' },
    now: input.now ?? new Date(),
    ...(input.decision ? { decision: input.decision } : {}),
  });
}

export interface OfflineSuggestionInput {
  /** Selected from redacted logs. */
  readonly excerpt: LogExcerpt;
  readonly diffedAgainstPassingBuild: boolean;
  readonly redactedSecrets: number;
  readonly build: BuildIdentity;
  readonly now: Date;
  readonly fallbackReason?: FallbackReason;
  readonly fallbackDetail?: string;
  readonly modelId?: string;
  /** Remediation's decision on the same build, when known (the local replay; a later suggestion). */
  readonly decision?: DecisionContext;
}

interface EnvironmentCause {
  readonly title: string;
  readonly category: FailureCategory;
  /** What to do, a rerun included. */
  readonly fix: string;
  /** What to do when Pipemend decided not to rerun. */
  readonly whenNotRerun: string;
}

/** What to say about a failure the environment caused, by fault kind. */
const ENVIRONMENT_CAUSES: Readonly<Record<EnvironmentFaultKind, EnvironmentCause>> = {
  'ci-runner': {
    title: 'The CI runner failed the job',
    category: 'container',
    fix: 'The runner, not the change, failed (a lost pod, an image it could not pull, a system failure): a clean rerun usually passes; if it recurs, check the runner fleet and its image registry.',
    whenNotRerun: 'Check the runner fleet and its image registry; the change did not cause this.',
  },
  'container-daemon': {
    title: "The build host's container daemon was unavailable",
    category: 'container',
    fix: 'The Docker daemon of the build host was down or unreachable: rerun on a healthy host; if it recurs, check the host (disk, daemon restarts) or enable privileged mode where Docker is needed.',
    whenNotRerun:
      'Check the build host (disk, Docker daemon restarts) or the privileged-mode setting; the change did not cause this.',
  },
  'network-timeout': {
    title: 'A network call timed out',
    category: 'network',
    fix: 'A network call timed out: rerun; if it recurs, check the remote service, proxies and VPC egress, and cache dependencies so builds need less of the network.',
    whenNotRerun: 'Check the remote service, proxies and VPC egress, and cache dependencies.',
  },
  'network-error': {
    title: 'A network connection failed',
    category: 'network',
    fix: 'A connection failed (refused, unreachable, TLS): rerun; if it recurs, check the endpoint, DNS, proxies, certificates and VPC egress.',
    whenNotRerun: 'Check the endpoint, DNS, proxies, certificates and VPC egress.',
  },
  'dns-failure': {
    title: 'A host name could not be resolved',
    category: 'network',
    fix: 'Name resolution failed: rerun; if it recurs, check the DNS resolver of the build environment and the host name.',
    whenNotRerun: 'Check the DNS resolver of the build environment and the host name.',
  },
  'registry-outage': {
    title: 'A package or image registry answered with a server error',
    category: 'network',
    fix: 'The registry or mirror failed (5xx, a half-synced index): rerun later; pin a mirror or cache packages to depend less on it.',
    whenNotRerun: 'Check the registry or mirror status; pin a mirror or cache packages.',
  },
  'registry-rate-limit': {
    title: 'A package or image registry rate-limited the build',
    category: 'throttling',
    fix: 'The registry rate-limited the pulls: authenticate to it or use a mirror or pull-through cache (ECR), then rerun.',
    whenNotRerun: 'Authenticate to the registry or use a mirror or pull-through cache (ECR).',
  },
  throttling: {
    title: 'AWS API calls were throttled',
    category: 'throttling',
    fix: 'Rerun later, add retries with exponential backoff (SDK retry mode "adaptive"), reduce concurrent deployments, or request a quota increase.',
    whenNotRerun:
      'Add retries with exponential backoff, reduce concurrent deployments, or request a quota increase.',
  },
  'out-of-memory': {
    title: 'The build ran out of memory',
    category: 'resource-exhaustion',
    fix: 'Raise the memory available to the build (compute type, -Xmx, NODE_OPTIONS=--max-old-space-size) or reduce parallelism.',
    whenNotRerun:
      'Raise the memory available to the build (compute type, -Xmx, NODE_OPTIONS=--max-old-space-size) or reduce parallelism.',
  },
  'disk-full': {
    title: 'The build host ran out of disk space',
    category: 'resource-exhaustion',
    fix: 'Free disk space on the build host (clean workspaces, caches and Docker images) or use a larger compute type; rerun once space is available.',
    whenNotRerun:
      'Free disk space on the build host (clean workspaces, caches and Docker images) or use a larger compute type.',
  },
  'toolchain-crash': {
    title: 'The compiler crashed',
    category: 'compilation',
    fix: 'The compiler itself crashed (often on a corrupt incremental cache): a clean rerun without caches usually passes; report the crash upstream if it recurs.',
    whenNotRerun: 'Clear the build caches; report the compiler crash upstream if it recurs.',
  },
};

/** Signature categories an environment fault on the same line explains better (a pip ReadTimeout is network). */
const OVERRIDABLE = new Set<FailureCategory>(['unknown', 'dependency', 'container', 'configuration']);

interface Cause {
  readonly title: string;
  readonly category: FailureCategory;
  readonly guidance: string;
  readonly whenNotRerun?: string;
  readonly lines: number[];
  /** Only a hint names it (a weight-1 or -2 signature): the suggestion says it is inconclusive. */
  readonly weak?: boolean;
}

/**
 * The suggestion the signature library makes for an already selected (and redacted) excerpt. It agrees
 * with remediation's decision when one is given (a rolled-back deployment is not "rerun"), names a
 * failing test and its assertion, and says "inconclusive" when the log names no cause.
 */
export function offlineSuggestion(input: OfflineSuggestionInput): Suggestion {
  const { excerpt, decision } = input;
  const cause = pickCause(excerpt);
  const evidenceLines = cause ? cause.lines : excerpt.lines.slice(0, 5);
  const firstEvidence = cause ? excerptLine(excerpt, cause.lines[0]!) : undefined;
  const tests = cause?.category === 'test-failure' ? describeTestFailure(excerpt) : undefined;
  const confidence = !cause ? 0.1 : cause.weak ? 0.2 : cause.category === 'unknown' ? 0.3 : 0.6;
  const rolledBack = decision?.action === 'ROLLBACK';
  const notRerun = decision !== undefined && decision.action !== 'RERUN_CLEAN';
  const evidence = truncate(firstEvidence ?? '', 400);
  const summary = rolledBack
    ? `The deployment was unhealthy and was rolled back${cause ? `: ${lowerFirst(cause.title)}` : ''}`
    : cause?.weak
      ? `Inconclusive: possibly ${lowerFirst(cause.title)}`
      : cause
        ? tests?.test
          ? `Tests failed: ${truncate(tests.test, 160)}`
          : cause.title
        : 'Inconclusive: the build failed without a recognised error message';
  const rootCause = rolledBack
    ? `${decision.reasons[0] ?? 'The deployment failed its health check.'}${cause ? ` The log shows: ${evidence}` : ''}`
    : cause?.weak
      ? `Inconclusive: the log names no definite cause; the nearest evidence: ${evidence}`
      : cause
        ? tests?.test
          ? `${cause.title}: ${truncate(tests.test, 200)}${tests.assertion ? ` (${truncate(tests.assertion, 200)})` : ''}`
          : `${cause.title}: ${evidence}`
        : excerpt.matches.length > 0
          ? "Inconclusive: the log reports that the build failed but names no cause; read the excerpt (the failing step's last lines)."
          : 'Inconclusive: no line of the log matches a known error signature; read the excerpt (the last lines the passing build did not print).';
  const guidance = !cause
    ? 'Open the full build log, find the first error, and rerun once to rule out a transient failure.'
    : notRerun && /\brerun\b/i.test(cause.guidance)
      ? `Pipemend did not rerun this build (${decision.action}${decision.reasons[0] ? `: ${decision.reasons[0]}` : ''}). ${cause.whenNotRerun ?? 'Fix the cause shown in the evidence.'}`
      : cause.guidance;
  const suggestedFix = rolledBack
    ? 'Find what the deployed change broke (the failing requests or checks in the evidence), fix it and deploy again; a rerun would redeploy the same change.'
    : !cause && notRerun
      ? `Open the full build log and find the first error; Pipemend did not rerun it (${decision.action}).`
      : guidance;
  return {
    schemaVersion: 1,
    buildId: input.build.buildId,
    ...(input.build.buildArn ? { buildArn: input.build.buildArn } : {}),
    ...(input.build.projectName ? { projectName: input.build.projectName } : {}),
    source: 'offline',
    ...(input.modelId ? { modelId: input.modelId } : {}),
    ...(input.fallbackReason ? { fallbackReason: input.fallbackReason } : {}),
    ...(input.fallbackDetail ? { fallbackDetail: input.fallbackDetail } : {}),
    summary,
    rootCause,
    category: cause?.category ?? 'unknown',
    suggestedFix,
    confidence,
    evidenceLines,
    excerpt: {
      lines: excerpt.lines,
      text: excerpt.text,
      diffedAgainstPassingBuild: input.diffedAgainstPassingBuild,
    },
    redactedSecrets: input.redactedSecrets,
    createdAt: input.now.toISOString(),
  };
}

/**
 * The cause: in the best-ranked excerpt block that names one (weight 3; the excerpt ranks the failing
 * step first), the most specific signature (library order), with the lines it matched: a compiler error
 * explains a build more than the build tool's "failed to execute goal" after it. A line that is also an
 * environment fault speaks for that fault when its signature is generic (a pip ReadTimeout is the
 * network, not "an exception"). Reports and hints alone (weight 1-2) name no cause: inconclusive.
 */
function pickCause(excerpt: LogExcerpt): Cause | undefined {
  const strong = excerpt.matches.filter((match) => match.signature.weight === 3);
  const inBlock = (line: number, block: { start: number; end: number }): boolean =>
    line >= block.start && line <= block.end;
  const firstBlock = excerpt.blocks.find((block) => strong.some((match) => inBlock(match.line, block)));
  const candidates = firstBlock ? strong.filter((match) => inBlock(match.line, firstBlock)) : strong;
  let best: { signature: ErrorSignature; rank: number } | undefined;
  for (const match of candidates) {
    const rank = ERROR_SIGNATURES.indexOf(match.signature);
    if (!best || rank < best.rank) best = { signature: match.signature, rank };
  }
  if (!best) return weakCause(excerpt);
  const signature = best.signature;
  const lines = candidates
    .filter((match) => match.signature === signature)
    .map((match) => match.line)
    .slice(0, 10);
  const faults = findEnvironmentFaults(lines.map((line) => excerptLine(excerpt, line) ?? ''));
  const fault = faults[0];
  if (fault && OVERRIDABLE.has(signature.category)) {
    const environment = ENVIRONMENT_CAUSES[fault.kind];
    const faultLine = lines[fault.lineNumber - 1]!;
    return {
      title: environment.title,
      category: environment.category,
      guidance: environment.fix,
      whenNotRerun: environment.whenNotRerun,
      lines: [faultLine, ...lines.filter((line) => line !== faultLine)],
    };
  }
  return {
    title: signature.title,
    category: signature.category,
    guidance: signature.guidance,
    ...(fault ? { whenNotRerun: ENVIRONMENT_CAUSES[fault.kind].whenNotRerun } : {}),
    lines,
  };
}

/** Signatures that only report that something failed: never a cause, not even a weak one. */
const REPORTS = new Set(['build-tool-failure', 'ci-step-failure', 'npm-footer', 'npm-error']);

/** Without a signature that names a cause: the best hint (a git notice, a missing file), flagged weak. */
function weakCause(excerpt: LogExcerpt): Cause | undefined {
  const hint = excerpt.matches.find((match) => !REPORTS.has(match.signature.id));
  if (!hint) return undefined;
  return {
    title: hint.signature.title,
    category: hint.signature.category,
    guidance: hint.signature.guidance,
    lines: [hint.line],
    weak: true,
  };
}

/** How test runners name a failing test (the name is the first group). */
const TEST_NAME = [
  /^\s*● (.+)$/,
  /^--- FAIL: (\S+)/,
  /^\s*\d+\) (?:test )?(.+?):?$/,
  /^(?:FAIL|ERROR) in \((.+)\)/,
  /^test (\S+) \.\.\. FAILED$/,
  /^FAILED (\S+)/,
  /^\s*\[-\] (.+)$/,
  /^Tests run: .*<<< FAIL(?:URE|ED)!? - in (\S+)/,
  /^(\w+\([\w.$]+\))(?:\s|$)/,
  // Maven Surefire: `[ERROR] testTotal(com.acme.CheckoutTest)  Time elapsed: 0.1 s  <<< FAILURE!` (2.x),
  // `[ERROR] com.acme.CheckoutTest.testTotal -- Time elapsed: 0.1 s <<< ERROR!` (3.x).
  /^\s*(?:\[ERROR\]\s+)?([\w.$]+(?:\([\w.$]+\))?)\s.*<<< (?:FAIL(?:URE|ED)|ERROR)!/,
];
/** How test runners show an assertion. */
const ASSERTION =
  /AssertionError|AssertionFailedError|ComparisonFailure|assert(?:ion)? failed|\bexpected\b|but (?:was|got)|Received:|to (?:be|equal)|is not equal to|Failure\/Error|panicked at/i;

/** The failing test's name and its assertion, from the excerpt's lines. */
function describeTestFailure(excerpt: LogExcerpt): { test?: string; assertion?: string } {
  const lines = excerpt.text.split('\n');
  let test: string | undefined;
  for (const line of lines) {
    test = TEST_NAME.map((pattern) => pattern.exec(line)?.[1]?.trim()).find((name) => name);
    if (test) break;
  }
  const assertion = lines.find((line) => ASSERTION.test(line))?.trim();
  return { ...(test ? { test } : {}), ...(assertion ? { assertion } : {}) };
}

function lowerFirst(value: string): string {
  return value.charAt(0).toLowerCase() + value.slice(1);
}

function excerptLine(excerpt: LogExcerpt, line: number): string | undefined {
  const index = excerpt.lines.indexOf(line);
  return index < 0 ? undefined : excerpt.text.split('\n')[index]?.trim();
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
