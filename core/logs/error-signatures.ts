/**
 * The error-signature library: how failures of common CI toolchains announce themselves in a build log,
 * what kind of failure each is, and what usually fixes it. The excerpt selector uses the patterns to find
 * the lines that matter; the offline suggester uses the categories and guidance when no model is asked.
 */

/** What kind of failure a build had. A closed set: nothing downstream ever acts on free text. */
export const FAILURE_CATEGORIES = [
  'compilation',
  'test-failure',
  'dependency',
  'resource-exhaustion',
  'network',
  'source-control',
  'permissions',
  'throttling',
  'configuration',
  'container',
  'infrastructure-as-code',
  'timeout',
  'unknown',
] as const;

export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

export interface ErrorSignature {
  readonly id: string;
  readonly category: FailureCategory;
  /** Matched against a line with colours and CI timestamp prefixes removed. */
  readonly pattern: RegExp;
  /** How strongly the line points at the cause: 3 names the cause, 2 reports the failure, 1 is a hint. */
  readonly weight: 1 | 2 | 3;
  /** One line naming the failure, for humans. */
  readonly title: string;
  /** What usually fixes it. */
  readonly guidance: string;
}

/**
 * Ordered from specific to generic: the offline suggester takes the first specific signature that
 * matches, so a compiler error beats the build tool's generic "failed to execute goal" that follows it.
 */
export const ERROR_SIGNATURES: readonly ErrorSignature[] = [
  // Resources of the build host.
  {
    id: 'disk-full',
    category: 'resource-exhaustion',
    pattern: /no space left on device|disk quota exceeded|ENOSPC/i,
    weight: 3,
    title: 'The build host ran out of disk space',
    guidance:
      'Free disk space on the build host (clean workspaces, caches and Docker images) or use a larger compute type; rerun once space is available.',
  },
  {
    id: 'out-of-memory',
    category: 'resource-exhaustion',
    pattern:
      /OutOfMemoryError|JavaScript heap out of memory|Cannot allocate memory|\bOOMKilled\b|exit code 137\b|MemoryError\b/i,
    weight: 3,
    title: 'The build ran out of memory',
    guidance:
      'Raise the memory available to the build (compute type, -Xmx, NODE_OPTIONS=--max-old-space-size) or reduce parallelism.',
  },
  {
    id: 'build-timeout',
    category: 'timeout',
    pattern:
      /build (has )?timed out|timed out after \d+|Build timed out|exceeded the timeout|deadline exceeded|exceeded the maximum time limit|No output has been received in the last|execution took longer than|Timeout of \d+ms exceeded/i,
    weight: 3,
    title: 'The build or one of its steps timed out',
    guidance:
      'Find the step that stalled; raise its timeout only if the work legitimately grew, otherwise look for a hung test or network call.',
  },
  // AWS.
  {
    id: 'aws-throttling',
    category: 'throttling',
    pattern:
      /ThrottlingException|Throttling: Rate exceeded|\bRate exceeded\b|TooManyRequestsException|RequestLimitExceeded|ProvisionedThroughputExceeded|\bSlowDown\b/,
    weight: 3,
    title: 'AWS API calls were throttled',
    guidance:
      'Rerun later, add retries with exponential backoff (SDK retry mode "adaptive"), reduce concurrent deployments, or request a quota increase.',
  },
  {
    id: 'aws-access-denied',
    category: 'permissions',
    pattern:
      /\bAccessDenied(Exception)?\b|is not authorized to perform|UnauthorizedOperation|ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch/,
    weight: 3,
    title: 'An AWS call was denied',
    guidance:
      'Grant the build role the named action on the named resource (narrowly), or refresh expired credentials; do not widen to "*".',
  },
  {
    id: 'cloudformation-failure',
    category: 'infrastructure-as-code',
    pattern:
      /\b(CREATE|UPDATE|DELETE)_FAILED\b|UPDATE_ROLLBACK_(IN_PROGRESS|COMPLETE)|ROLLBACK_COMPLETE|Stack .* is in .*_FAILED state/,
    weight: 3,
    title: 'A CloudFormation stack operation failed',
    guidance:
      'Read the first resource that failed (the earliest *_FAILED event): its status reason names the cause; fix it and redeploy.',
  },
  {
    id: 'terraform-error',
    category: 'infrastructure-as-code',
    pattern:
      /^[│|]?\s*Error: .*(terraform|provider|resource|Invalid|Unsupported|configuring|creating|reading)|Error acquiring the state lock/i,
    weight: 3,
    title: 'Terraform failed',
    guidance:
      'Fix the resource or configuration named in the error block; for a state lock, make sure no other run is active before force-unlocking.',
  },
  // Containers.
  {
    id: 'docker-build',
    category: 'container',
    pattern:
      /failed to solve|failed to compute cache key|returned a non-zero code: \d+|Cannot connect to the Docker daemon|pull access denied|manifest unknown|toomanyrequests: You have reached your pull rate limit/i,
    weight: 3,
    title: 'The container image build or pull failed',
    guidance:
      'Fix the Dockerfile step named in the error; for pull limits use an authenticated registry or a mirror (ECR pull-through cache).',
  },
  // Source control.
  {
    // Routine in setup steps (describe without tags, status outside a work tree): a hint, not a cause.
    id: 'git-notice',
    category: 'source-control',
    pattern:
      /not a git repository|No names found, cannot describe|fatal: ambiguous argument|no tag exactly matches/i,
    weight: 1,
    title: 'A git command found no repository or revision',
    guidance: 'Usually harmless setup output; if the build needs the history, fetch it (deeper clone, tags).',
  },
  {
    id: 'git-failure',
    category: 'source-control',
    pattern:
      /^fatal: |GitException|Could not checkout|Error cloning remote repo|unsafe repository|couldn't find remote ref|failed to push some refs/i,
    weight: 3,
    title: 'A source-control operation failed',
    guidance:
      'Check the repository URL, credentials and the requested revision; mark the workspace as a safe directory when it is owned by another user; rerun when the remote is reachable.',
  },
  // Network.
  {
    id: 'network-unavailable',
    category: 'network',
    pattern:
      /\b50[234]\b.*(Service Unavailable|Bad Gateway|Gateway|returned error)|returned error: 50\d|Service Unavailable|Connection (refused|reset|timed out)|ETIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN|Could not resolve host|Temporary failure in name resolution|unable to access '/i,
    weight: 3,
    title: 'A remote service was unreachable',
    guidance:
      'A transient outage of a remote service: rerun; if it persists, check the service status, proxies and VPC egress, and cache dependencies.',
  },
  // Compilers.
  {
    id: 'javac-error',
    category: 'compilation',
    pattern:
      /\.(java|kt|scala|groovy):\[?\d+[,:]\d+\]?:? .*|\.java:\d+: error:|cannot find symbol|incompatible types|bad class file|class file has wrong version/,
    weight: 3,
    title: 'The code did not compile',
    guidance:
      'Fix the first compiler error at the file and line shown; "wrong version"/"bad class file" errors mean a dependency was built for a newer JDK: align the JDK or pin the dependency.',
  },
  {
    // XCTest reports assertion failures in the compiler's `file:line: error:` format: a test, not code.
    id: 'xctest-failure',
    category: 'test-failure',
    pattern:
      /: error: -\[[\w.]+ \w+\] : |\bXCT\w+ failed\b|failed: \(.*\) is not equal to \(|Executed \d+ tests?, with [1-9]\d* failures?/,
    weight: 3,
    title: 'Tests failed',
    guidance:
      'Read the failing test case and its assertion; reproduce it with `xcodebuild test` or `swift test`.',
  },
  {
    id: 'typescript-error',
    category: 'compilation',
    pattern: /\.(ts|tsx|mts|cts)\(\d+,\d+\): error TS\d+|error TS\d+:/,
    weight: 3,
    title: 'TypeScript did not compile',
    guidance: 'Fix the type error at the file and line shown; run `tsc --noEmit` locally to reproduce.',
  },
  {
    id: 'go-error',
    category: 'compilation',
    pattern: /\.go:\d+:\d+: |^# [\w./-]+$|undefined: \w+/,
    weight: 3,
    title: 'Go code did not compile or vet',
    guidance: 'Fix the error at the file and line shown; run `go build ./... && go vet ./...` locally.',
  },
  {
    id: 'rust-error',
    category: 'compilation',
    // `could not compile` is cargo's summary, not the error: a compiler killed for memory prints it too.
    pattern: /^error\[E\d{4}\]: |^error: aborting due to|^\s*--> [^\s:]+\.rs:\d+:\d+/,
    weight: 3,
    title: 'Rust code did not compile',
    guidance: 'Fix the first `error[E....]` at the location shown; `cargo check` reproduces it locally.',
  },
  {
    // After the toolchains with their own signatures: the generic `file:line: error` of the others.
    id: 'compiler-error',
    category: 'compilation',
    pattern:
      /^\s*[^\s:]+:\d+(?::\d+)?:\s*(?:fatal )?error\b|\berror (?:CS|FS|BC)\d{4}\b|\(\d+,\d+\): error [A-Z]+\d+|^! (?:LaTeX Error|Undefined control sequence|Emergency stop|Missing|Extra|Package \w+ Error)|^(?:PHP )?Parse error: |\*\* \((?:CompileError|SyntaxError|TokenMissingError)\)|^CMake Error/,
    weight: 3,
    title: 'The code did not compile',
    guidance: 'Fix the first compiler error at the file and line shown; later errors often follow from it.',
  },
  {
    id: 'api-compatibility',
    category: 'compilation',
    pattern: /Undefined reference: |Signature errors found|API changes: \d+|incompatible API/i,
    weight: 3,
    title: 'An API compatibility check failed',
    guidance:
      'The code uses or changes an API the compatibility check forbids: use an API available on the target platform, or update the baseline deliberately.',
  },
  // Tests.
  {
    id: 'test-failure',
    category: 'test-failure',
    pattern:
      /Tests run: \d+, Failures: [1-9]|^\s+\w+_test\.go:\d+: |Tests? FAILED|\(\) FAILED$| > .* FAILED$|^--- FAIL: |^FAIL\b|^FAILED\b|(?<![\w/.:=-])[1-9]\d* (tests? )?failed\b|There (was|were) \d+ failures?|There were failing tests|AssertionError|AssertionFailedError|ComparisonFailure|^\s*Expected: |^\s*but: |Failures: ?$|^failures:$|test result: FAILED|^---- .+ stdout ----$|Failure\/Error: |^rspec \.\/\S+:\d+ |\d+ examples?, [1-9]\d* failures?|^\s*\d+\) (Failure|Error):|\d+ (runs|tests), \d+ assertions, (?:[1-9]\d* failures|\d+ failures, [1-9]\d* errors)|\d+ tests?, [1-9]\d* failures?|^\s*\d+\) test .* \(.+\)$|^(FAIL|ERROR) in \(|^\s+\d+ failing$|^\s*● .+|\(.*\) (ERROR|FAILED)$|^\s*Disconnected\b|Executed \d+ of \d+ .*(FAILED|DISCONNECTED|ERROR)|^not ok \d+|^# Failed test|Dubious, test returned|Failed \d+\/\d+ (subtests|test programs)|^Result: FAIL|^\s*\[-\] |Tests Passed: \d+,? Failed: [1-9]|\d+ successes \/ [1-9]\d* failures?|TEST COMPLETE, \d+ ok, [1-9]\d* failed|\bfailed on line \d+|\*\*\* FAILED \*\*\*|^_{3,} \S.* _{3,}$|^(?:Failure|Error):$|Running the tests in .* failed\.?$|^── (Failure|Error) |^\s*(✖|✗|×|✘) /,
    weight: 3,
    title: 'Tests failed',
    guidance:
      'Read the first failing test and its assertion; reproduce it locally. If it passes on rerun without changes it is flaky: quarantine it and fix the nondeterminism.',
  },
  // Dependencies and package managers.
  {
    id: 'dependency-resolution',
    category: 'dependency',
    pattern:
      /Could not resolve dependencies|Could not resolve( all)? (artifacts|dependencies|files)|Could not find artifact|Could not transfer artifact|npm ERR! (code )?E(RESOLVE|NOTARGET|404)|No matching version found|ERESOLVE|ModuleNotFoundError|No module named|Cannot find module|ResolutionImpossible|failed to select a version|unresolved import/i,
    weight: 3,
    title: 'A dependency could not be resolved',
    guidance:
      'Check the dependency coordinates and version, that the repository/registry is reachable and the artifact published; pin versions and commit the lock file.',
  },
  {
    id: 'class-version',
    category: 'dependency',
    pattern: /UnsupportedClassVersionError|compiled by a more recent version of the Java Runtime/,
    weight: 3,
    title: 'A dependency needs a newer Java runtime',
    guidance:
      'Run the build on the JDK the dependency was compiled for, or pin the dependency to a version built for your JDK.',
  },
  {
    // npm's footer after a failed script: it repeats that the script failed, never why.
    id: 'npm-footer',
    category: 'unknown',
    pattern:
      /^npm ERR! (?:A complete log of this run|\s*\/\S+\.log$|Test failed\.|This is probably not a problem with npm|Failed at the|errno |code ELIFECYCLE|Exit status|Make sure you have the latest|not with npm itself|Tell the author|You can get (?:information|their info)|There is likely additional logging|\s*$)/,
    weight: 1,
    title: 'An npm script failed',
    guidance: "The lines before npm's footer name the cause.",
  },
  {
    id: 'npm-error',
    category: 'dependency',
    pattern: /^npm ERR! |^npm error |ELIFECYCLE|^error Command failed with exit code|ERR_PNPM_/,
    weight: 2,
    title: 'An npm script or install failed',
    guidance:
      'The first `npm ERR!` lines name the failing script or package; reproduce with `npm ci && npm run <script>`.',
  },
  // Runtime errors.
  {
    id: 'python-traceback',
    category: 'configuration',
    pattern:
      /^Traceback \(most recent call last\)|^\w*(Error|Exception): |During handling of the above exception/,
    weight: 3,
    title: 'A Python script raised an exception',
    guidance: "Fix the exception at the last frame of the traceback; check imports and the script's inputs.",
  },
  {
    id: 'panic',
    category: 'unknown',
    pattern:
      /thread '.*' panicked at|^panic: |^(PHP )?Fatal error: |PHP Fatal error|^\s*\*\* \([\w.]+\) |^Error in .*: |^Execution halted$|Debugger entered--Lisp error|^\s+(?:[A-Z]\w*)?(?:Error|Exception): |Segmentation fault|core dumped/,
    weight: 3,
    title: 'The program crashed or raised an error',
    guidance: 'Read the error message and the location it names; reproduce the failing command locally.',
  },
  {
    id: 'exception',
    category: 'unknown',
    pattern:
      /^\s*(Exception in thread|Caused by: )|^\s*([a-z_$][\w$]*\.)+[A-Z][\w$]*(Exception|Error)(\$\w+)?(: |\s+at\s|$)|^\s*([a-z_$][\w$]*\.)+[A-Z][\w$]*\$\w*(Shutdown|Failure)\b/,
    weight: 3,
    title: 'An exception was thrown',
    guidance:
      'Read the exception message and the first stack frame in your own code; the cause is usually there.',
  },
  {
    id: 'permission-denied',
    category: 'permissions',
    pattern: /Permission denied|EACCES|Operation not permitted/,
    weight: 3,
    title: 'A file or command was not permitted',
    guidance:
      'Check file modes (chmod +x for scripts), the user the build runs as, and mounted volume ownership.',
  },
  {
    id: 'command-not-found',
    category: 'configuration',
    pattern: /command not found|: not found$|is not recognized as an internal or external command/,
    weight: 3,
    title: 'A command or file the build needs is missing',
    guidance:
      'Install the tool in the build image or install phase, or fix the path; check the working directory of the step.',
  },
  {
    // Setup scripts probe for optional files all the time: a hint unless it is the failing step's error.
    id: 'missing-file',
    category: 'configuration',
    pattern: /No such file or directory|cannot access '/,
    weight: 1,
    title: 'A file the build looked for is missing',
    guidance:
      'Check the path and the working directory of the step, and that an earlier step produced the file.',
  },
  // Reports of failure by the build tool or CI system (they say that it failed, rarely why).
  {
    id: 'build-tool-failure',
    category: 'unknown',
    pattern:
      /Failed to execute goal|could not compile `|The command "[^"]*" (exited with [1-9]|failed)|\*\* (BUILD|TEST) FAILED \*\*|make(\[\d+\])?: \*\*\* .*Error \d+|Command did not exit successfully|Phase complete: \w+ State: FAILED|COMMAND_EXECUTION_ERROR|COMPILATION ERROR|Compilation failure|Execution failed for task|BUILD FAILED|FAILURE: Build failed|Process completed with exit code [1-9]|exited with (code|status) [1-9]|non-zero (exit|status)|returned status code [1-9]|Command failed|failed with exit code|marked build as failure|Exiting with failure status|Something went wrong/i,
    weight: 2,
    title: 'The build tool reported a failure',
    guidance: 'The lines just before this one usually name the cause.',
  },
  {
    id: 'ci-step-failure',
    category: 'configuration',
    pattern:
      /^(ERROR|FATAL): |^##\[error\]|^\[(ERROR|FATAL|error)\]|^ERROR\b|^E\s{2,}| does not exist\.?$|^error:? (?![[{])|^Error: /,
    weight: 2,
    title: 'A build step reported an error',
    guidance: "Read the error message; check the step's configuration and inputs.",
  },
];

export interface SignatureMatch {
  readonly signature: ErrorSignature;
  /** 1-based line number in the log. */
  readonly line: number;
}

/** The first (most specific) signature a cleaned line matches, if any. */
export function matchSignature(cleanLine: string): ErrorSignature | undefined {
  return ERROR_SIGNATURES.find((signature) => signature.pattern.test(cleanLine));
}
