#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

import { parsePipemendConfig, PipemendConfig, PipemendConfigError } from '../lib/config';
import { PipemendStack } from '../lib/pipemend-stack';

const app = new App();
let config: PipemendConfig;
try {
  config = parsePipemendConfig(app.node.tryGetContext('pipemend'));
} catch (error) {
  // A mistake in the deploy context is the user's to fix: one line that names it, no stack trace.
  if (!(error instanceof PipemendConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
// Environment-agnostic on purpose: synthesises offline, deploys to whatever account/region the CLI targets.
// `-c stackName=PipemendStaging` installs a second Pipemend beside the first: every physical name
// derives from the stack name.
const stackName: unknown = app.node.tryGetContext('stackName') ?? 'Pipemend';
if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
  process.stderr.write(
    `Invalid context stackName: a CloudFormation stack name (a letter, then letters, digits and hyphens), got ${JSON.stringify(stackName)}\n`,
  );
  process.exit(1);
}
new PipemendStack(app, stackName, { config });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
app.synth();
