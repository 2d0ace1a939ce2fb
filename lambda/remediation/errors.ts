/**
 * Typed errors of the remediation Lambdas. The error name is what Step Functions matches in Retry and
 * Catch, so each is stable and says what went wrong.
 */

/** The input did not match the contract; retrying cannot help. */
export class InvalidRemediationInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRemediationInputError';
  }
}

/** The failed stage cannot be retried (it is not the latest execution, or it is not failed any more). */
export class StageNotRetryableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageNotRetryableError';
  }
}

/** No rollback is possible: a source stage, or no earlier successful execution on this pipeline version. */
export class RollbackNotPossibleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RollbackNotPossibleError';
  }
}
