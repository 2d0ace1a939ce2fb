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
new PipemendStack(app, 'Pipemend', { config });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
app.synth();
