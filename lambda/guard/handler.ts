/**
 * Guard Lambda: lets a classified decision through (or not) once per failure, spending the retry budget
 * and consulting the circuit breaker with DynamoDB conditional writes.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { createGuardOnce, LambdaContext } from './guard-once';
import { GuardLimits, validateGuardLimits } from '../../core/remediation/guards';
import { GuardResult, REMEDIATION_MODES, RemediationMode } from '../../core/remediation/remediation';
import { DynamoDbGuardStore } from '../remediation/dynamodb-guard-store';
import { guardRequestSchema, parseInput } from '../remediation/schemas';
import { numberEnv, requireEnv } from '../shared/env';
import { logger, tracer } from '../shared/powertools';

const dynamodb = tracer.captureAWSv3Client(new DynamoDBClient({}));
const tableName = requireEnv('REMEDIATION_TABLE');
const limits: GuardLimits = validateGuardLimits({
  maxActionsPerRevision: numberEnv('MAX_ACTIONS_PER_REVISION', 1),
  maxActionsPerWindow: numberEnv('MAX_ACTIONS_PER_WINDOW', 3),
  windowSeconds: numberEnv('BUDGET_WINDOW_SECONDS', 3600),
  breakerThreshold: numberEnv('BREAKER_THRESHOLD', 3),
  breakerCooldownSeconds: numberEnv('BREAKER_COOLDOWN_SECONDS', 21600),
});
const defaultMode = parseMode(requireEnv('DEFAULT_MODE'));
const store = new DynamoDbGuardStore(tableName, dynamodb);

const guardOnce = createGuardOnce({
  persistenceStore: new DynamoDBPersistenceLayer({
    tableName,
    keyAttr: 'pk',
    expiryAttr: 'expiresAt',
    awsSdkV3Client: dynamodb,
  }),
  context: () => ({ store, limits, defaultMode, nowSeconds: Math.floor(Date.now() / 1000) }),
});

export async function handler(event: unknown, context: LambdaContext): Promise<GuardResult> {
  guardOnce.idempotencyConfig.registerLambdaContext(context);
  const request = parseInput(guardRequestSchema, event, 'guard request');
  const result = await guardOnce(request);
  logger.info('Guard decided', {
    claimKey: request.classification.claimKey,
    outcome: result.outcome,
    reasons: result.reasons,
  });
  return result;
}

function parseMode(value: string): RemediationMode {
  if (!REMEDIATION_MODES.includes(value as RemediationMode)) {
    throw new Error(
      `Environment variable DEFAULT_MODE must be one of ${REMEDIATION_MODES.join(', ')}, got '${value}'`,
    );
  }
  return value as RemediationMode;
}
