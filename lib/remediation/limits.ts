/** What the remediation state machine retries, and where it may act. */

/**
 * Errors worth retrying on the Lambda tasks. `Lambda.*` names are what Step Functions reports when the Lambda
 * service refuses or fails the invocation (`Lambda.TooManyRequestsException` when the function is throttled);
 * the bare names are errors the function itself lets escape from the AWS SDK calls it makes.
 * `retryOnServiceExceptions` adds Lambda.ServiceException, Lambda.AWSLambdaException,
 * Lambda.SdkClientException and Lambda.ClientExecutionTimeoutException. See docs/aws-contracts.md.
 */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.TooManyRequestsException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
  'TimeoutError',
];

/**
 * Errors of the optimized `codebuild:startBuild` integration that mean the build never started: throttling
 * (not in CodeBuild's API model, so it surfaces as the integration's base exception) and the account's
 * concurrent-build limit. See docs/aws-contracts.md.
 */
export const CODEBUILD_THROTTLING_ERRORS = [
  'CodeBuild.AccountLimitExceededException',
  'CodeBuild.AWSCodeBuildException',
  'CodeBuild.CodeBuildException',
];

/** StartBuild errors after which no build ran: the rerun did not happen and must not feed the breaker. */
export const CODEBUILD_NOT_STARTED_ERRORS = [
  ...CODEBUILD_THROTTLING_ERRORS,
  'CodeBuild.InvalidInputException',
  'CodeBuild.ResourceNotFoundException',
  'States.Permissions',
];

/**
 * Errors of the `aws-sdk:codepipeline` integration worth retrying: a busy pipeline, too many executions, and
 * throttling, which CodePipeline's API model does not declare and so surfaces as the SDK's base exception.
 */
export const CODEPIPELINE_TRANSIENT_ERRORS = [
  'CodePipeline.ConcurrentPipelineExecutionsLimitExceededException',
  'CodePipeline.ConflictException',
  'CodePipeline.CodePipelineException',
];

/**
 * The tag that opts a CodeBuild project or a CodePipeline pipeline in to remediation when no `projects` or
 * `pipelines` are configured: the state machine may only rerun, retry or roll back resources tagged
 * `pipemend:remediate` = `true` (an IAM `aws:ResourceTag` condition).
 */
export const REMEDIATE_TAG_KEY = 'pipemend:remediate';
export const REMEDIATE_TAG_VALUE = 'true';

/**
 * StartBuild overrides a clean rerun never needs, each denied by its CodeBuild condition key (the key is
 * present, i.e. `Null` is false, when the request sets the override): a rerun may not change what runs,
 * on which image, with which privileges or credentials.
 */
export const DENIED_START_BUILD_OVERRIDES = [
  'codebuild:source.buildspec',
  'codebuild:source.location',
  'codebuild:secondarySources',
  'codebuild:artifacts',
  'codebuild:secondaryArtifacts',
  'codebuild:environment.image',
  'codebuild:environment.type',
  'codebuild:environment.privilegedMode',
  'codebuild:environment.certificate',
  'codebuild:environment.registryCredential',
  'codebuild:environment.imagePullCredentialsType',
  'codebuild:serviceRole',
  'codebuild:encryptionKey',
  'codebuild:logsConfig',
];
