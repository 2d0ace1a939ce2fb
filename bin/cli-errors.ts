/**
 * What the `pipemend` command prints when something goes wrong: one line that names the problem and,
 * for AWS errors, what to check. Never a stack trace for a mistake the user can fix.
 */

/** A wrong or missing argument found while a command runs (commander reports the ones it parses). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface AwsLikeError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);
const EXPIRED_ERRORS = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);
const INVALID_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'InvalidSignatureException',
]);
const DENIED_ERRORS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
  'Forbidden',
]);
const NETWORK_CODES = new Set(['ENOTFOUND', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET']);

/** One line for an error thrown by a command: what was wrong and, for AWS, what to check. */
export function describeCliError(error: unknown): string {
  if (error instanceof UsageError) return `${error.message} (see --help)`;
  const aws = (typeof error === 'object' && error !== null ? error : {}) as AwsLikeError;
  const name = aws.name ?? '';
  const message = aws.message ?? String(error);
  if (CREDENTIAL_ERRORS.has(name) || /could not load credentials/i.test(message)) {
    return 'AWS: no credentials found. Set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run `aws configure` / `aws sso login`.';
  }
  if (/region is missing/i.test(message)) {
    return 'AWS: no region. Pass --region or set AWS_REGION (or a region in your AWS profile).';
  }
  if (EXPIRED_ERRORS.has(name)) {
    return `AWS: your credentials have expired (${name}). Refresh them (e.g. \`aws sso login\`) and retry.`;
  }
  if (INVALID_CREDENTIALS.has(name)) {
    return `AWS: the credentials were refused (${name}: ${message}). Check AWS_PROFILE or the access key in use.`;
  }
  if (DENIED_ERRORS.has(name) || aws.$metadata?.httpStatusCode === 403) {
    return `AWS: permission denied (${name || 'HTTP 403'}: ${message}). The identity you run as needs this permission; check its IAM policy.`;
  }
  if (aws.code && NETWORK_CODES.has(aws.code)) {
    return `AWS: cannot reach the service endpoint (${aws.code}). Check the network and the region.`;
  }
  if (aws.$metadata) {
    return `AWS: ${name}: ${message}. Check the resource name and the region (--region).`;
  }
  return message;
}
