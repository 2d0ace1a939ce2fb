/** Reading JSON and text objects from the data lake, with "absent" kept apart from "broken". */
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';

/** The object's text, or `null` when the key does not exist. Other S3 errors propagate. */
export async function getTextOrNull(s3: S3Client, bucket: string, key: string): Promise<string | null> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return await response.Body.transformToString('utf-8');
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null;
    throw error;
  }
}

/** The object parsed as JSON, or `null` when absent; invalid JSON is an error naming the object. */
export async function getJsonOrNull(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  const text = await getTextOrNull(s3, bucket, key);
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`s3://${bucket}/${key} is not valid JSON: ${(error as Error).message}`);
  }
}
