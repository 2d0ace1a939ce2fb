/**
 * S3 conditional writes for read-modify-write objects in the data lake: `If-Match: <ETag read>` replaces
 * an object only if nobody wrote it since it was read, `If-None-Match: *` creates one only if none exists.
 * When another writer got there first, S3 answers 412 Precondition Failed, or 409
 * ConditionalRequestConflict for concurrent writes of one key (docs/aws-contracts.md).
 */
import { PutObjectCommand, PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';

interface S3LikeError {
  readonly name?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function status(error: unknown): number | undefined {
  return (error as S3LikeError).$metadata?.httpStatusCode;
}

/** The object does not exist (any more). */
export function isMissing(error: unknown): boolean {
  return (error as S3LikeError).name === 'NoSuchKey' || status(error) === 404;
}

/** A conditional write lost: the object exists already (create) or changed since it was read (replace). */
export function lostRace(error: unknown): boolean {
  const name = (error as S3LikeError).name;
  return (
    name === 'PreconditionFailed' ||
    name === 'ConditionalRequestConflict' ||
    status(error) === 412 ||
    status(error) === 409
  );
}

/** Writes the object if it is still the one with `etag`, or, without an ETag, if there is none yet. */
export async function putIfUnchanged(
  s3: Pick<S3Client, 'send'>,
  input: Pick<PutObjectCommandInput, 'Bucket' | 'Key' | 'Body' | 'ContentType'>,
  etag: string | undefined,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({ ...input, ...(etag !== undefined ? { IfMatch: etag } : { IfNoneMatch: '*' }) }),
  );
}
