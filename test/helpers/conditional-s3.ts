/**
 * S3 played in memory for the stores that write with conditional requests (s3rver ignores
 * If-Match/If-None-Match on PUT). One object answers as the S3 user guide says (conditional writes): 412
 * PreconditionFailed when If-Match differs from its ETag or, for If-None-Match: *, it exists.
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { AwsClientStub } from 'aws-sdk-client-mock';

/** The error the SDK throws for an S3 error response `name` with HTTP status `status`. */
export function s3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}

/**
 * Makes `s3` answer GetObject and PutObject on `bucket`/`key` as one object honouring conditional writes,
 * holding `initial` as JSON if given (ETag `"v1"`; each write gives the next version). `body()` is what it
 * holds, parsed.
 */
export function conditionalObject<T>(
  s3: AwsClientStub<S3Client>,
  bucket: string,
  key: string,
  initial?: unknown,
): { body(): T | undefined } {
  let version = 0;
  let current: { body: string; etag: string } | undefined =
    initial === undefined ? undefined : { body: JSON.stringify(initial), etag: `"v${++version}"` };
  s3.on(GetObjectCommand, { Bucket: bucket, Key: key }).callsFake(async () => {
    // Answer after a turn of the event loop, as a network call would: concurrent updates interleave.
    await new Promise((resolve) => setImmediate(resolve));
    if (!current) throw s3Error('NoSuchKey', 404);
    const { body, etag } = current;
    return { ETag: etag, Body: { transformToString: () => Promise.resolve(body) } };
  });
  s3.on(PutObjectCommand, { Bucket: bucket, Key: key }).callsFake(async (input: PutObjectCommandInput) => {
    await new Promise((resolve) => setImmediate(resolve));
    if (input.IfNoneMatch === '*' && current) throw s3Error('PreconditionFailed', 412);
    if (input.IfMatch !== undefined && input.IfMatch !== current?.etag)
      throw s3Error('PreconditionFailed', 412);
    current = { body: String(input.Body), etag: `"v${++version}"` };
    return { ETag: current.etag };
  });
  return { body: () => (current ? (JSON.parse(current.body) as T) : undefined) };
}
