import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { S3TrainingData } from '../../../sagemaker/training/s3-training-data';
import { RunningS3rver, startS3rver } from '../../helpers/s3rver';

// Feature-row listing uses delimiter and paginated listings, which s3rver 3.7 cannot answer on Node 20
// (empty CommonPrefixes; continuation tokens need a legacy OpenSSL cipher): it is covered against the
// in-memory lake in the window handler tests. Here: reading and writing objects through the real SDK.
describe('S3TrainingData against s3rver on loopback', () => {
  let server: RunningS3rver;
  let client: S3Client;
  const bucket = 'pipemend-training';

  beforeAll(async () => {
    server = await startS3rver(bucket);
    client = server.client;
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'labels/kind=environment-fault/date=2026-11-20/r1.json',
        Body: '{"buildId":"api:0001","anomalous":true}',
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await server.stop();
  });

  test('reads the labels and writes artifacts it can read back', async () => {
    const data = new S3TrainingData(client, bucket);
    expect(await data.readLabelTexts()).toEqual(['{"buildId":"api:0001","anomalous":true}']);
    await data.putJson('models/v1/manifest.json', { modelVersion: 'v1' });
    expect(JSON.parse(await data.getText('models/v1/manifest.json'))).toEqual({ modelVersion: 'v1' });
  });
});
