import { existsSync } from 'node:fs';
import * as path from 'node:path';

import { AssetHashType, DockerImage, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import { DeadLetterQueue } from './dead-letter-queue';
import { packageRoot } from './package-root';

/** The Node.js runtime every Pipemend Lambda uses: the latest that aws-cdk-lib offers. */
export const PIPEMEND_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * esbuild settings of every deployed function, whether bundled at synth time or ahead of time for the
 * package (`bundleHandler`). ESM entry points first: they let esbuild drop the unused parts of the SDK
 * and Powertools (about a fifth of a bundle). `npm run bench:bundles` measures the result in cdk.out.
 */
const PIPEMEND_ESBUILD = {
  target: 'node24',
  minify: true,
  mainFields: ['module', 'main'],
} as const;

/**
 * Where the code of `lambda/<handlerDir>/handler.ts` comes from. In a clone of the repository the
 * handler is bundled at synth time with the local esbuild (never Docker). The packed package ships no
 * sources: its functions were bundled with the same settings by `npm run build:lib`
 * (dist/lambda-bundles/<dir>/index.js), so a consumer's `cdk synth` needs neither esbuild nor Docker.
 */
export function pipemendFunctionCode(handlerDir: string): lambda.Code {
  const source = path.join(packageRoot(), 'lambda', handlerDir);
  if (existsSync(path.join(source, 'handler.ts'))) {
    return lambda.Code.fromAsset(source, {
      // The bundle's own bytes: the handler imports code from outside its folder.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never pulled: local bundling always succeeds or throws.
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-alpine'),
        local: {
          tryBundle(outputDir: string): boolean {
            bundleHandler(path.join(source, 'handler.ts'), outputDir);
            return true;
          },
        },
      },
    });
  }
  const prebuilt = path.join(packageRoot(), 'dist', 'lambda-bundles', handlerDir);
  if (!existsSync(path.join(prebuilt, 'index.js'))) {
    throw new Error(
      `no code for function '${handlerDir}': neither ${source}/handler.ts nor ${prebuilt}/index.js`,
    );
  }
  return lambda.Code.fromAsset(prebuilt);
}

/** esbuild with Pipemend's settings; loaded only when bundling, so the package needs no esbuild. */
export function bundleHandler(entry: string, outputDir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [entry],
    outfile: path.join(outputDir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    ...PIPEMEND_ESBUILD,
    mainFields: [...PIPEMEND_ESBUILD.mainFields],
    sourcemap: true,
    logLevel: 'warning',
  });
}

export interface PipemendFunctionProps {
  /** Folder under `lambda/` that holds `handler.ts`, e.g. `collector`. */
  readonly handlerDir: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /**
   * Memory size in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Function timeout.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Environment variables for the handler.
   * @default - none beyond the Powertools settings
   */
  readonly environment?: Record<string, string>;
  /**
   * Log retention of the function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Reserved concurrency: bounds the blast radius of an event storm.
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Key that encrypts the function's environment variables and asynchronous-invocation DLQ.
   * @default - AWS managed key
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * A Lambda function with Pipemend's defaults: local esbuild bundling (never Docker), the latest
 * Node.js runtime on ARM64, X-Ray tracing, an explicit log group with retention, and a dead-letter
 * queue for asynchronous invocations so no event is dropped silently.
 */
export class PipemendFunction extends lambda.Function {
  /** Dead-letter queue for asynchronous invocations that exhausted their retries. */
  public readonly asyncDeadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: PipemendFunctionProps) {
    if (!/^[a-z][a-z0-9-]*$/.test(props.handlerDir)) {
      throw new Error(`handlerDir must be a folder name under lambda/, got '${props.handlerDir}'`);
    }
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const deadLetterQueue = new DeadLetterQueue(scope, `${id}AsyncDlq`);
    super(scope, id, {
      code: pipemendFunctionCode(props.handlerDir),
      handler: 'index.handler',
      description: props.description,
      runtime: PIPEMEND_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environmentEncryption: props.encryptionKey,
      deadLetterQueue,
      retryAttempts: 2,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'pipemend',
        POWERTOOLS_METRICS_NAMESPACE: 'Pipemend',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
    });
    this.asyncDeadLetterQueue = deadLetterQueue;
    this.acknowledgeDefaults();
  }

  /** Findings that every Pipemend function shares by design, acknowledged once here. */
  private acknowledgeDefaults(): void {
    if (this.role) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'AWSLambdaBasicExecutionRole allows logs:CreateLogGroup, CreateLogStream and PutLogEvents on every log group ("*") and nothing else; the function logs to its own log group, which this construct creates with a retention.',
      });
    }
    const invokeConfig = this.node.tryFindChild('EventInvokeConfig');
    if (invokeConfig) {
      Validations.of(invokeConfig).acknowledge({
        id: 'Serverless::Serverless-LambdaAsyncFailureDestination',
        reason:
          'Failed asynchronous invocations go to the function dead-letter queue (asyncDeadLetterQueue), which keeps the whole event.',
      });
    }
  }
}
