/**
 * Flaky-test detection from a project's recent history: a test that failed here but passed on the same
 * revision, or that keeps flipping between pass and fail, says more about the environment (or the test)
 * than about the change under test.
 */

export type TestOutcome = 'PASSED' | 'FAILED';

/** One test case's result in one build. */
export interface TestCaseResult {
  readonly name: string;
  readonly outcome: TestOutcome;
}

/** A past build's test results, oldest first when given as history. */
export interface TestRun {
  readonly buildId: string;
  readonly revision?: string;
  readonly results: readonly TestCaseResult[];
}

export interface FlakyTestEvidence {
  readonly name: string;
  /** Passed in an earlier build of the very same revision. */
  readonly passedOnSameRevision: boolean;
  /** Pass/fail flips in the history window, including this build. */
  readonly flips: number;
  /** Recorded as flaky earlier: a rerun of the same revision passed after it failed (see FlakyTestHistory). */
  readonly known?: boolean;
}

export interface FlakyTestOptions {
  /**
   * Flips in the history (pass→fail or fail→pass) from which a test counts as flip-flopping.
   * @default 2
   */
  readonly minFlips?: number;
  /** Tests of the project recorded as flaky with evidence (they flipped on one revision). */
  readonly knownFlaky?: ReadonlySet<string>;
}

export interface FlakyTestAnalysis {
  /** Tests that failed in this build. */
  readonly failedTests: string[];
  /** Failed tests with evidence of flakiness. */
  readonly flaky: FlakyTestEvidence[];
  /** Failed tests without such evidence: likely real failures. */
  readonly consistent: string[];
  /**
   * Of `consistent`, the tests with no failure in the history window: their first failure, which one rerun
   * tells apart (a flake passes, a regression fails again).
   */
  readonly firstFailures: string[];
  /**
   * Of `consistent`, the tests that already failed on this same revision and never passed on it: broken, not
   * flaky, whatever their flips.
   */
  readonly broken: string[];
}

/** Classifies the tests that failed in `current` against `history` (earlier builds, oldest first). */
export function analyzeFlakyTests(
  current: TestRun,
  history: readonly TestRun[],
  options: FlakyTestOptions = {},
): FlakyTestAnalysis {
  const minFlips = options.minFlips ?? 2;
  const failedTests = current.results
    .filter((result) => result.outcome === 'FAILED')
    .map((result) => result.name);
  const flaky: FlakyTestEvidence[] = [];
  const consistent: string[] = [];
  const firstFailures: string[] = [];
  const broken: string[] = [];
  for (const name of failedTests) {
    const outcomes = history.flatMap((run) =>
      run.results
        .filter((result) => result.name === name)
        .map((result) => ({ run, outcome: result.outcome })),
    );
    const onSameRevision = outcomes.filter(
      ({ run }) => current.revision !== undefined && run.revision === current.revision,
    );
    const passedOnSameRevision = onSameRevision.some(({ outcome }) => outcome === 'PASSED');
    const failedOnSameRevision = onSameRevision.some(({ outcome }) => outcome === 'FAILED');
    const sequence = [...outcomes.map(({ outcome }) => outcome), 'FAILED' as const];
    const flips = sequence.slice(1).filter((outcome, index) => outcome !== sequence[index]).length;
    const known = options.knownFlaky?.has(name) ?? false;
    if (failedOnSameRevision && !passedOnSameRevision) {
      // Failed again on the revision it failed on: a rerun did not help, so it is broken, never flaky.
      consistent.push(name);
      broken.push(name);
    } else if (passedOnSameRevision || flips >= minFlips || known) {
      flaky.push({ name, passedOnSameRevision, flips, ...(known ? { known } : {}) });
    } else {
      consistent.push(name);
      if (!outcomes.some(({ outcome }) => outcome === 'FAILED')) firstFailures.push(name);
    }
  }
  return { failedTests, flaky, consistent, firstFailures, broken };
}

/** A project's flaky tests with evidence, kept across builds (the data lake in AWS, memory locally). */
export interface FlakyTestHistory {
  /** Names of the project's tests recorded as flaky. */
  knownFlaky(projectName: string): Promise<string[]>;
  /** Records tests that failed and then passed a rerun of the same revision. */
  recordFlaky(projectName: string, tests: readonly string[], evidence: FlakyEvidenceRun): Promise<void>;
}

/** The rerun that showed the tests flip on one revision. */
export interface FlakyEvidenceRun {
  /** The build that failed. */
  readonly failedBuildId?: string;
  readonly revision?: string;
  /** The remediation whose rerun passed. */
  readonly remediationId: string;
  readonly recordedAt: string;
}
