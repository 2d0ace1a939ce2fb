/**
 * zod schemas of what the state machine passes between the remediation Lambdas, so a malformed input
 * fails with a message naming the field instead of a TypeError deep inside.
 */
import * as z from 'zod/mini';

import { InvalidRemediationInputError } from './errors';
import {
  Classification,
  GUARD_OUTCOMES,
  GuardResult,
  REMEDIATION_ACTIONS,
  REMEDIATION_MODES,
  REMEDIATION_STATUSES,
  RemediationStatus,
} from '../../core/remediation/remediation';
import '../shared/zod-messages';

const targetSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('codebuild-project'),
    projectName: z.string().check(z.minLength(1)),
    buildId: z.string().check(z.minLength(1)),
    buildArn: z.optional(z.string()),
    revision: z.optional(z.string()),
  }),
  z.object({
    kind: z.literal('pipeline-stage'),
    pipelineName: z.string().check(z.minLength(1)),
    stageName: z.string().check(z.minLength(1)),
    pipelineExecutionId: z.string().check(z.minLength(1)),
    pipelineVersion: z.optional(z.number().check(z.int())),
    buildId: z.optional(z.string()),
    revision: z.optional(z.string()),
  }),
]);

export const classificationSchema = z.object({
  eventId: z.string().check(z.minLength(1)),
  claimKey: z.string().check(z.minLength(1)),
  target: z.nullable(targetSchema),
  decision: z.object({
    action: z.enum(REMEDIATION_ACTIONS),
    reasons: z.array(z.string()),
    confidence: z.number().check(z.minimum(0), z.maximum(1)),
    computeTypeOverride: z.optional(z.string()),
  }),
  rerun: z.optional(z.object({ computeType: z.string().check(z.minLength(1)) })),
  tests: z.optional(
    z.object({
      projectName: z.string().check(z.minLength(1)),
      failed: z.array(z.string()),
      basis: z.enum(['first-failure', 'flaky']),
    }),
  ),
  quarantined: z.optional(
    z.object({
      tests: z.array(z.string()),
      owners: z.array(z.string()),
    }),
  ),
  fingerprint: z.optional(
    z.object({
      hash: z.string().check(z.minLength(1)),
      where: z.string(),
      cause: z.string(),
    }),
  ),
  healthAlarmName: z.optional(z.string()),
  classifiedAt: z.string(),
}) satisfies z.ZodMiniType<Classification>;

export const guardResultSchema = z.object({
  outcome: z.enum(GUARD_OUTCOMES),
  mode: z.enum(REMEDIATION_MODES),
  reasons: z.array(z.string()),
  remediationId: z.string().check(z.minLength(1)),
  executionId: z.string().check(z.minLength(1)),
}) satisfies z.ZodMiniType<GuardResult>;

export const guardRequestSchema = z.object({
  classification: classificationSchema,
  executionId: z.string().check(z.minLength(1)),
});

/**
 * What the state machine reports at the end of every execution. Classification and guard are null when the
 * step producing them failed; the error is the caught task failure (`$.error`), null when none.
 */
export const outcomeReportSchema = z.object({
  classification: z.nullable(classificationSchema),
  guard: z.nullable(guardResultSchema),
  status: z.enum(REMEDIATION_STATUSES) as z.ZodMiniType<RemediationStatus>,
  detail: z.optional(z.string()),
  error: z.optional(z.nullable(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }))),
  event: z.optional(
    z.nullable(
      z.object({
        id: z.optional(z.string()),
        source: z.optional(z.string()),
        'detail-type': z.optional(z.string()),
      }),
    ),
  ),
  executionId: z.optional(z.string()),
  executionName: z.optional(z.string()),
});

/** Parses or throws InvalidRemediationInputError listing every problem with its path. */
export function parseInput<T>(schema: z.ZodMiniType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new InvalidRemediationInputError(`Invalid ${what}: ${problems.join('; ')}`);
}
