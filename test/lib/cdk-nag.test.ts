import { synthPipemend } from '../helpers/synth';

describe('cdk-nag', () => {
  test('the stack synthesises with bundling and has no unacknowledged AwsSolutions or Serverless finding', () => {
    // Synthesis throws "Validation failed" listing every unacknowledged finding.
    expect(() => synthPipemend({ nag: true, bundle: true })).not.toThrow();
  });

  test('a stack with every optional capability configured has no unacknowledged finding', () => {
    expect(() =>
      synthPipemend({
        nag: true,
        config: {
          projects: ['app-build'],
          pipelines: ['app-pipeline'],
          scorer: 'endpoint',
          bedrockModelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
          bedrockGuardrailId: 'gr-123',
          bedrockGuardrailVersion: '1',
          notificationEmail: 'ops@example.com',
          trainingSource: 'compacted',
          owners: [
            { pipeline: 'app-pipeline', topicArn: 'arn:aws:sns:eu-west-1:123456789012:app-team' },
            { project: 'app-build', email: 'app-team@example.com' },
          ],
        },
      }),
    ).not.toThrow();
  });

  test('the embedded trainer reading the compacted table has no unacknowledged finding', () => {
    expect(() => synthPipemend({ nag: true, config: { trainingSource: 'compacted' } })).not.toThrow();
  });
});
