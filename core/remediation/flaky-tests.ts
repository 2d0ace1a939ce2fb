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
}

export interface FlakyTestOptions {
  /**
   * Flips in the history (pass→fail or fail→pass) from which a test counts as flip-flopping.
   * @default 2
   */
  readonly minFlips?: number;
}

export interface FlakyTestAnalysis {
  /** Tests that failed in this build. */
  readonly failedTests: string[];
  /** Failed tests with evidence of flakiness. */
  readonly flaky: FlakyTestEvidence[];
  /** Failed tests without such evidence: likely real failures. */
  readonly consistent: string[];
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
  for (const name of failedTests) {
    const outcomes = history.flatMap((run) =>
      run.results
        .filter((result) => result.name === name)
        .map((result) => ({ run, outcome: result.outcome })),
    );
    const passedOnSameRevision =
      current.revision !== undefined &&
      outcomes.some(({ run, outcome }) => run.revision === current.revision && outcome === 'PASSED');
    const sequence = [...outcomes.map(({ outcome }) => outcome), 'FAILED' as const];
    const flips = sequence.slice(1).filter((outcome, index) => outcome !== sequence[index]).length;
    if (passedOnSameRevision || flips >= minFlips) {
      flaky.push({ name, passedOnSameRevision, flips });
    } else {
      consistent.push(name);
    }
  }
  return { failedTests, flaky, consistent };
}
