#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

import { parsePipemendConfig } from '../lib/config';
import { PipemendStack } from '../lib/pipemend-stack';

const app = new App();
// Environment-agnostic on purpose: synthesises offline, deploys to whatever account/region the CLI targets.
new PipemendStack(app, 'Pipemend', { config: parsePipemendConfig(app.node.tryGetContext('pipemend')) });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
app.synth();
