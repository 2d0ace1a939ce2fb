/**
 * Deploys approved model versions to the scoring endpoint and keeps `models/current.json` in step with
 * what the endpoint actually serves.
 *
 * - `SageMaker Model Package State Change` (a version of Pipemend's group became Approved): creates the
 *   model and endpoint config named after the version, then creates the endpoint or updates it blue/green
 *   (all traffic to the new fleet, a baking period watched by CloudWatch alarms, automatic rollback).
 * - `SageMaker Endpoint State Change` to InService (after a deployment *or* a rollback): reads which
 *   endpoint config is live and publishes that version's manifest as `models/current.json`, so the
 *   scorer's threshold and baselines always match the model answering it.
 */
import { S3Client } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeploymentConfig,
  DescribeEndpointCommand,
  DescribeModelPackageCommand,
  ProductionVariantInstanceType,
  SageMakerClient,
  UpdateEndpointCommand,
} from '@aws-sdk/client-sagemaker';
import * as z from 'zod/mini';

import { CURRENT_MODEL_MANIFEST_KEY, modelManifestKey } from '../../core/scoring/model-manifest';
import {
  endpointResourceName,
  modelVersionOfArtifact,
  modelVersionOfResource,
} from '../../sagemaker/training/model-version';
import { S3TrainingData } from '../../sagemaker/training/s3-training-data';
import { parseManifest } from '../scorer/s3-manifest-source';
import { numberEnv, requireEnv } from '../shared/env';
import { logger } from '../shared/powertools';
import '../shared/zod-messages';

const s3 = new S3Client({});
const sagemakerClient = new SageMakerClient({});

/** The endpoint is mid-deployment; the event is retried, then kept in the dead-letter queue for redrive. */
export class EndpointBusyError extends Error {
  public override readonly name = 'EndpointBusyError';
}

/** The approved model package cannot be deployed as it is (no container, no Pipemend version). */
export class UndeployableModelPackageError extends Error {
  public override readonly name = 'UndeployableModelPackageError';
}

const approvalEventSchema = z.object({
  'detail-type': z.literal('SageMaker Model Package State Change'),
  detail: z.object({
    ModelPackageArn: z.string().check(z.minLength(1)),
    ModelPackageGroupName: z.string().check(z.minLength(1)),
    ModelApprovalStatus: z.string(),
  }),
});

const endpointEventSchema = z.object({
  'detail-type': z.literal('SageMaker Endpoint State Change'),
  detail: z.object({ EndpointName: z.string().check(z.minLength(1)) }),
});

const deployerEventSchema = z.union([approvalEventSchema, endpointEventSchema]);

export interface DeployerSettings {
  readonly endpointName: string;
  readonly modelPackageGroupName: string;
  readonly modelExecutionRoleArn: string;
  readonly instanceType: string;
  readonly initialInstanceCount: number;
  /** CloudWatch alarms that roll a blue/green update back while they fire. */
  readonly rollbackAlarmNames: readonly string[];
  /** Seconds the new fleet serves all traffic, watched by the alarms, before the old fleet goes. */
  readonly bakeSeconds: number;
}

export interface DeployerDependencies {
  readonly sagemaker: SageMakerClient;
  readonly data: S3TrainingData;
  readonly settings: DeployerSettings;
}

export type DeployerOutcome =
  | { readonly action: 'ignored'; readonly reason: string }
  | { readonly action: 'created' | 'updated' | 'already-deployed'; readonly modelVersion: string }
  | { readonly action: 'published'; readonly modelVersion: string };

export async function handleDeployerEvent(
  event: unknown,
  deps: DeployerDependencies,
): Promise<DeployerOutcome> {
  const parsed = deployerEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new Error(`Unsupported model deployer event: ${z.prettifyError(parsed.error)}`);
  }
  const value = parsed.data;
  if (value['detail-type'] === 'SageMaker Endpoint State Change') {
    if (value.detail.EndpointName !== deps.settings.endpointName) {
      return { action: 'ignored', reason: `endpoint ${value.detail.EndpointName} is not Pipemend's` };
    }
    return publishServedManifest(deps);
  }
  const { detail } = value;
  if (detail.ModelPackageGroupName !== deps.settings.modelPackageGroupName) {
    return {
      action: 'ignored',
      reason: `model package group ${detail.ModelPackageGroupName} is not Pipemend's`,
    };
  }
  return deployApprovedPackage(detail.ModelPackageArn, deps);
}

async function deployApprovedPackage(
  modelPackageArn: string,
  deps: DeployerDependencies,
): Promise<DeployerOutcome> {
  const { sagemaker, settings } = deps;
  // Re-read: the event may be stale (approved, then rejected again before delivery).
  const modelPackage = await sagemaker.send(
    new DescribeModelPackageCommand({ ModelPackageName: modelPackageArn }),
  );
  if (modelPackage.ModelApprovalStatus !== 'Approved') {
    return {
      action: 'ignored',
      reason: `${modelPackageArn} is ${modelPackage.ModelApprovalStatus ?? 'unknown'}, not Approved`,
    };
  }
  const container = modelPackage.InferenceSpecification?.Containers?.[0];
  // Every version's artifact lives under training/<model version>/model/ (see the pipeline definition).
  const modelVersion = modelVersionOfArtifact(container?.ModelDataUrl ?? '');
  if (!container?.Image || !container.ModelDataUrl || !modelVersion) {
    throw new UndeployableModelPackageError(
      `${modelPackageArn} lacks a container image or model data from a Pipemend training run`,
    );
  }
  // The manifest must exist before the endpoint can serve the version, or the scorer could not use it.
  await deps.data.getText(modelManifestKey(modelVersion)).catch((error: unknown) => {
    if ((error as { name?: string }).name !== 'NoSuchKey') throw error;
    throw new UndeployableModelPackageError(
      `model version ${modelVersion} has no manifest at ${modelManifestKey(modelVersion)}; it was not produced by the evaluation step`,
    );
  });
  const name = endpointResourceName(settings.endpointName, modelVersion);
  await createUnlessExists(() =>
    sagemaker.send(
      new CreateModelCommand({
        ModelName: name,
        ExecutionRoleArn: settings.modelExecutionRoleArn,
        PrimaryContainer: { Image: container.Image, ModelDataUrl: container.ModelDataUrl },
        EnableNetworkIsolation: true,
      }),
    ),
  );
  await createUnlessExists(() =>
    sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: name,
        ProductionVariants: [
          {
            VariantName: 'AllTraffic',
            ModelName: name,
            InstanceType: settings.instanceType as ProductionVariantInstanceType,
            InitialInstanceCount: settings.initialInstanceCount,
          },
        ],
      }),
    ),
  );
  const endpoint = await describeEndpoint(sagemaker, settings.endpointName);
  if (!endpoint) {
    await sagemaker.send(
      new CreateEndpointCommand({ EndpointName: settings.endpointName, EndpointConfigName: name }),
    );
    logger.info('Endpoint created', { endpointName: settings.endpointName, modelVersion });
    return { action: 'created', modelVersion };
  }
  if (endpoint.EndpointConfigName === name) return { action: 'already-deployed', modelVersion };
  if (endpoint.EndpointStatus !== 'InService' && endpoint.EndpointStatus !== 'Failed') {
    throw new EndpointBusyError(
      `Endpoint ${settings.endpointName} is ${endpoint.EndpointStatus}; model version ${modelVersion} will be deployed on retry or redrive`,
    );
  }
  await sagemaker.send(
    new UpdateEndpointCommand({
      EndpointName: settings.endpointName,
      EndpointConfigName: name,
      DeploymentConfig: blueGreenDeployment(settings),
    }),
  );
  logger.info('Blue/green endpoint update started', { endpointName: settings.endpointName, modelVersion });
  return { action: 'updated', modelVersion };
}

/** All traffic moves to the new fleet, which bakes under the alarms; any alarm rolls back to the old fleet. */
export function blueGreenDeployment(settings: DeployerSettings): DeploymentConfig {
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: settings.bakeSeconds },
      TerminationWaitInSeconds: settings.bakeSeconds,
      MaximumExecutionTimeoutInSeconds: Math.max(600, 3 * settings.bakeSeconds + 1800),
    },
    AutoRollbackConfiguration: {
      Alarms: settings.rollbackAlarmNames.map((AlarmName) => ({ AlarmName })),
    },
  };
}

async function publishServedManifest(deps: DeployerDependencies): Promise<DeployerOutcome> {
  const endpoint = await describeEndpoint(deps.sagemaker, deps.settings.endpointName);
  if (!endpoint || endpoint.EndpointStatus !== 'InService') {
    return {
      action: 'ignored',
      reason: `endpoint is ${endpoint?.EndpointStatus ?? 'absent'}, not InService`,
    };
  }
  const modelVersion = modelVersionOfResource(deps.settings.endpointName, endpoint.EndpointConfigName ?? '');
  if (!modelVersion) {
    return {
      action: 'ignored',
      reason: `endpoint config ${endpoint.EndpointConfigName} was not created by Pipemend`,
    };
  }
  const key = modelManifestKey(modelVersion);
  const manifest = parseManifest(JSON.parse(await deps.data.getText(key)), key);
  await deps.data.putJson(CURRENT_MODEL_MANIFEST_KEY, manifest);
  logger.info('Current model manifest published', { modelVersion, endpointName: deps.settings.endpointName });
  return { action: 'published', modelVersion };
}

async function describeEndpoint(sagemaker: SageMakerClient, endpointName: string) {
  try {
    return await sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
  } catch (error) {
    if (isValidation(error) && /could not find endpoint/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Creates idempotently: a redelivered approval finds the model and config already there. */
async function createUnlessExists(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (isValidation(error) && /already exist/i.test((error as Error).message)) return;
    throw error;
  }
}

function isValidation(error: unknown): boolean {
  return (error as { name?: string }).name === 'ValidationException';
}

export const handler = async (event: unknown): Promise<DeployerOutcome> =>
  handleDeployerEvent(event, {
    sagemaker: sagemakerClient,
    data: new S3TrainingData(s3, requireEnv('DATA_LAKE_BUCKET')),
    settings: {
      endpointName: requireEnv('ENDPOINT_NAME'),
      modelPackageGroupName: requireEnv('MODEL_PACKAGE_GROUP_NAME'),
      modelExecutionRoleArn: requireEnv('MODEL_EXECUTION_ROLE_ARN'),
      instanceType: requireEnv('INSTANCE_TYPE'),
      initialInstanceCount: numberEnv('INITIAL_INSTANCE_COUNT', 1),
      rollbackAlarmNames: requireEnv('ROLLBACK_ALARM_NAMES').split(',').filter(Boolean),
      bakeSeconds: numberEnv('BAKE_SECONDS', 600),
    },
  });
