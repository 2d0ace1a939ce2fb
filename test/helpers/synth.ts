import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

import { parsePipemendConfig, PipemendConfig } from '../../lib/config';
import { PipemendStack } from '../../lib/pipemend-stack';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdkJson = require('../../cdk.json') as { context: Record<string, unknown> };

export interface SynthOptions {
  /** Pipemend configuration (as in the `pipemend` context). */
  readonly config?: Partial<PipemendConfig> | Record<string, unknown>;
  /**
   * Bundle the Lambdas with esbuild. Off by default: most infrastructure tests do not need the code,
   * and bundling every function for every test is slow. The cdk-nag test bundles for real.
   */
  readonly bundle?: boolean;
  /** Run the cdk-nag packs (synthesis throws on any unacknowledged finding). */
  readonly nag?: boolean;
}

/** An App configured like `bin/app.ts` (same feature flags), for tests. */
export function testApp(options: Pick<SynthOptions, 'bundle'> = {}): App {
  return new App({
    context: {
      ...cdkJson.context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
}

export function synthPipemend(options: SynthOptions = {}): { stack: PipemendStack; template: Template } {
  const app = testApp(options);
  const stack = new PipemendStack(app, 'Pipemend', { config: parsePipemendConfig(options.config ?? {}) });
  if (options.nag) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    app.synth();
  }
  return { stack, template: Template.fromStack(stack) };
}
