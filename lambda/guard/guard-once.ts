/**
 * The guard, made idempotent with Powertools: the first execution to present a claim key gets the
 * decision; every later presentation (a redelivered event, another event about the same failure) gets
 * the stored result back, sees that another execution claimed it, and is told DUPLICATE.
 */
import { randomUUID } from 'node:crypto';

import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';

import { GuardContext, guardDecision } from '../../core/remediation/guards';
import { Classification, GuardResult } from '../../core/remediation/remediation';

export interface GuardRequest {
  readonly classification: Classification;
  /** The Step Functions execution asking (`$$.Execution.Id`). */
  readonly executionId: string;
}

export interface GuardOnceOptions {
  readonly persistenceStore: BasePersistenceLayer;
  /** Called per request so the clock and the store are read when the guard runs. */
  readonly context: () => GuardContext;
  /**
   * How long a claim holds.
   * @default 86400 (a day: longer than any remediation, including an approval wait)
   */
  readonly expiresAfterSeconds?: number;
  readonly newRemediationId?: () => string;
}

/** The Lambda context type, as Powertools declares it. */
export type LambdaContext = Parameters<IdempotencyConfig['registerLambdaContext']>[0];

export interface GuardOnce {
  (request: GuardRequest): Promise<GuardResult>;
  /** Register each invocation's Lambda context, so an in-progress claim expires with a timed-out invocation. */
  readonly idempotencyConfig: IdempotencyConfig;
}

export function createGuardOnce(options: GuardOnceOptions): GuardOnce {
  const newRemediationId = options.newRemediationId ?? randomUUID;
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'classification.claimKey',
    expiresAfterSeconds: options.expiresAfterSeconds ?? 86400,
    throwOnNoIdempotencyKey: true,
  });
  const decideOnce = makeIdempotent(
    async (request: GuardRequest): Promise<GuardResult> => ({
      ...(await guardDecision(request.classification, options.context())),
      remediationId: newRemediationId(),
      executionId: request.executionId,
    }),
    {
      persistenceStore: options.persistenceStore,
      config: idempotencyConfig,
    },
  );
  const guardOnce = async (request: GuardRequest): Promise<GuardResult> => {
    const result = await decideOnce(request);
    if (result.executionId === request.executionId) return result;
    return {
      ...result,
      outcome: 'DUPLICATE',
      reasons: [`Execution ${result.executionId} already handled ${request.classification.claimKey}.`],
    };
  };
  return Object.assign(guardOnce, { idempotencyConfig });
}
