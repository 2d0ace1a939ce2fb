import { Match, Template } from 'aws-cdk-lib/assertions';

import { PER_BUILD_FEATURES_DAYS_WHEN_COMPACTED } from '../../lib/pipemend-stack';
import { synthPipemend } from '../helpers/synth';

function functionVariables(template: Template, idPrefix: string): Record<string, unknown> {
  const [fn] = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith(idPrefix),
  );
  if (!fn) throw new Error(`no function ${idPrefix}`);
  return (fn[1] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties
    .Environment.Variables;
}

function lifecycleRuleIds(template: Template): string[] {
  return Object.values(template.findResources('AWS::S3::Bucket')).flatMap((bucket) =>
    (
      (bucket as { Properties: { LifecycleConfiguration?: { Rules: { Id?: string }[] } } }).Properties
        .LifecycleConfiguration?.Rules ?? []
    ).map((rule) => rule.Id ?? ''),
  );
}

describe('trainingSource per-build (the default)', () => {
  const { template } = synthPipemend();

  test('the collector still sends every feature row to the compacted data lake stream', () => {
    expect(functionVariables(template, 'CollectionCollector')).toMatchObject({
      FEATURE_STREAM_NAME: 'Pipemend-compacted-features',
    });
  });

  test('the embedded trainer reads the per-build CSVs', () => {
    expect(functionVariables(template, 'EmbeddedTrainingTrainer')).not.toHaveProperty('TRAINING_SOURCE');
  });

  test('the per-build feature CSVs do not expire', () => {
    expect(lifecycleRuleIds(template)).not.toContain('expire-compacted-per-build-features');
  });
});

describe('trainingSource compacted', () => {
  test('the embedded trainer reads through the Athena workgroup with 8 of its 15 minutes for the query', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted' } });
    expect(functionVariables(template, 'EmbeddedTrainingTrainer')).toMatchObject({
      TRAINING_SOURCE: 'compacted',
      ATHENA_WORKGROUP: 'Pipemend-compacted',
      ATHENA_TIMEOUT_SECONDS: '480',
    });
  });

  test('the SageMaker window step reads through the workgroup with 5 of its 10 minutes for the query', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted', scorer: 'endpoint' } });
    expect(functionVariables(template, 'TrainingPipelineWindowStep')).toMatchObject({
      TRAINING_SOURCE: 'compacted',
      ATHENA_WORKGROUP: 'Pipemend-compacted',
      ATHENA_TIMEOUT_SECONDS: '300',
    });
  });

  test('the per-build feature CSVs expire after the 30 days the scorer reads of them', () => {
    const { template } = synthPipemend({ config: { trainingSource: 'compacted' } });
    expect(PER_BUILD_FEATURES_DAYS_WHEN_COMPACTED).toBeGreaterThan(30);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'expire-compacted-per-build-features',
            Prefix: 'features/',
            ExpirationInDays: PER_BUILD_FEATURES_DAYS_WHEN_COMPACTED,
          }),
        ]),
      },
    });
  });
});
