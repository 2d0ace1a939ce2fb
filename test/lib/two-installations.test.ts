import { Template } from 'aws-cdk-lib/assertions';

import { parsePipemendConfig } from '../../lib/config';
import { PipemendStack } from '../../lib/pipemend-stack';
import { testApp } from '../helpers/synth';

/** Properties that name a resource in the account and region: two installations must differ in each. */
const PHYSICAL_NAME = /^(?:[A-Za-z]*Name|Name)$/;
/** Names that only refer to a resource (or are not account-wide), never create one. */
const REFERENCES = new Set([
  'FunctionName',
  'PolicyName',
  'EventBusName',
  'MetricName',
  'DatabaseName',
  'TableName',
  'AlarmName',
  'EndpointConfigName',
  'ModelName',
  'VariantName',
  'DisplayName',
  'LogGroupName',
  // Unique within its log group only, and every installation's log groups have their own names.
  'LogStreamName',
]);

function physicalNames(template: Template): Map<string, string> {
  const names = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(template.toJSON().Resources ?? {})) {
    const { Type, Properties = {} } = resource as { Type: string; Properties?: Record<string, unknown> };
    const explicit = Object.entries(Properties).filter(
      ([key, value]) => PHYSICAL_NAME.test(key) && !REFERENCES.has(key) && typeof value === 'string',
    );
    for (const [key, value] of explicit) names.set(`${Type}.${key} ${value as string}`, logicalId);
    const glueName = (Properties.DatabaseInput as { Name?: unknown } | undefined)?.Name;
    if (Type === 'AWS::Glue::Database' && typeof glueName === 'string')
      names.set(`glue database ${glueName}`, logicalId);
  }
  return names;
}

test.each([
  ['embedded', {}],
  ['endpoint', { scorer: 'endpoint' }],
])('two %s installations in one app share no physical name', (_kind, config) => {
  const app = testApp();
  const production = new PipemendStack(app, 'Pipemend', { config: parsePipemendConfig(config) });
  const staging = new PipemendStack(app, 'PipemendStaging', { config: parsePipemendConfig(config) });
  const productionNames = physicalNames(Template.fromStack(production));
  const stagingNames = physicalNames(Template.fromStack(staging));
  expect(productionNames.size).toBeGreaterThan(0);
  const shared = [...productionNames.keys()].filter((name) => stagingNames.has(name));
  expect(shared).toEqual([]);
});

test('the default stack keeps the names of earlier versions', () => {
  const app = testApp();
  const stack = new PipemendStack(app, 'Pipemend', { config: parsePipemendConfig({ scorer: 'endpoint' }) });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'pipemend' } });
  template.hasResourceProperties('AWS::SageMaker::Pipeline', { PipelineName: 'pipemend-rcf-training' });
});
