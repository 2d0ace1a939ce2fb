/**
 * zod schemas of what the state machine passes between the remediation Lambdas, so a malformed input
 * fails with a message naming the field instead of a TypeError deep inside.
 */
import { z } from 'zod';

import { InvalidRemediationInputError } from './errors';
import { REMEDIATION_MODES } from '../../lib/config';
import {
  Classification,
  GUARD_OUTCOMES,
  GuardResult,
  REMEDIATION_ACTIONS,
  REMEDIATION_STATUSES,
  RemediationStatus,
} from '../core/remediation';

const targetSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('codebuild-project'),
    projectName: z.string().min(1),
    buildId: z.string().min(1),
    buildArn: z.string().optional(),
    revision: z.string().optional(),
  }),
  z.object({
    kind: z.literal('pipeline-stage'),
    pipelineName: z.string().min(1),
    stageName: z.string().min(1),
    pipelineExecutionId: z.string().min(1),
    pipelineVersion: z.number().int().optional(),
    buildId: z.string().optional(),
    revision: z.string().optional(),
  }),
]);

export const classificationSchema = z.object({
  eventId: z.string().min(1),
  claimKey: z.string().min(1),
  target: targetSchema.nullable(),
  decision: z.object({
    action: z.enum(REMEDIATION_ACTIONS),
    reasons: z.array(z.string()),
    confidence: z.number().min(0).max(1),
    computeTypeOverride: z.string().optional(),
  }),
  rerun: z.object({ computeType: z.string().min(1) }).optional(),
  healthAlarmName: z.string().optional(),
  classifiedAt: z.string(),
}) satisfies z.ZodType<Classification>;

export const guardResultSchema = z.object({
  outcome: z.enum(GUARD_OUTCOMES),
  mode: z.enum(REMEDIATION_MODES),
  reasons: z.array(z.string()),
  remediationId: z.string().min(1),
  executionId: z.string().min(1),
}) satisfies z.ZodType<GuardResult>;

export const guardRequestSchema = z.object({
  classification: classificationSchema,
  executionId: z.string().min(1),
});

export const outcomeReportSchema = z.object({
  classification: classificationSchema,
  guard: guardResultSchema,
  status: z.enum(REMEDIATION_STATUSES) as z.ZodType<RemediationStatus>,
  detail: z.string().optional(),
});

/** Parses or throws InvalidRemediationInputError listing every problem with its path. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new InvalidRemediationInputError(`Invalid ${what}: ${problems.join('; ')}`);
}
