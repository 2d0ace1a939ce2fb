/**
 * Deployment configuration, read from CDK context (`cdk.json`, `--context`), validated with exact messages.
 */
import { z } from 'zod';

import { REMEDIATION_MODES, RemediationMode } from '../core/remediation/remediation';
import { trendSettingsSchema } from '../core/scoring/trend-settings';
import { TRAINING_SOURCES } from '../sagemaker/training/parquet-window';

export { REMEDIATION_MODES };
export type { RemediationMode };

export const SCORER_KINDS = ['endpoint', 'embedded'] as const;

export type ScorerKind = (typeof SCORER_KINDS)[number];

const nameList = z.array(z.string().min(1)).default([]);

export const pipemendConfigSchema = z.strictObject({
  /** CodeBuild projects to watch; empty means every project of the account. */
  projects: nameList,
  /** CodePipeline pipelines to watch; empty means every pipeline of the account. */
  pipelines: nameList,
  /** Remediation mode for pipelines without their own; `shadow` decides and records only. */
  defaultMode: z.enum(REMEDIATION_MODES).default('shadow'),
  /** Which scorer the post-build Lambda uses once a model exists. */
  scorer: z.enum(SCORER_KINDS).default('embedded'),
  /** SageMaker RCF endpoint that `scorer: 'endpoint'` deploys to and invokes; default `<stack name>-rcf`. */
  endpointName: z
    .string()
    .regex(
      /^[a-zA-Z0-9](-?[a-zA-Z0-9]){0,40}$/,
      'must be a SageMaker endpoint name of letters, digits and single hyphens, at most 41 characters',
    )
    .optional(),
  /**
   * Deployment health signals: when the alarm fires after the stage deployed, Pipemend proposes a rollback
   * of that stage. Without one, rollbacks are never proposed.
   */
  healthAlarms: z
    .array(
      z.strictObject({
        pipelineName: z.string().min(1),
        stageName: z.string().min(1),
        alarmName: z.string().min(1),
      }),
    )
    .default([]),
  /** Ask a human (SNS message, `pipemend approve|deny`) before every rollback; default true. */
  requireRollbackApproval: z.boolean().default(true),
  /** Remediation budgets and circuit breaker; unset fields keep their defaults. */
  remediationLimits: z
    .strictObject({
      maxActionsPerRevision: z.number().int().min(1),
      maxActionsPerWindow: z.number().int().min(1),
      windowSeconds: z.number().int().min(60),
      breakerThreshold: z.number().int().min(1),
      breakerCooldownSeconds: z.number().int().min(60),
    })
    .partial()
    .optional(),
  /**
   * The trend test for slow creeps: `features` (`[]` turns it off), `minShift`, `minZ`; unset fields keep
   * their defaults (memory, 1.2 scales, z ≥ 4).
   */
  trend: z.optional(trendSettingsSchema),
  /** Amazon Bedrock model (or inference profile) id for fix suggestions; absent means offline suggestions only. */
  bedrockModelId: z.string().min(1).optional(),
  /** Bedrock Guardrail applied to suggestion requests. */
  bedrockGuardrailId: z.string().min(1).optional(),
  bedrockGuardrailVersion: z.string().min(1).optional(),
  /** Email address subscribed to Pipemend's notification topic. */
  notificationEmail: z.string().email().optional(),
  /** Days of build history a training window covers. */
  trainingWindowDays: z.number().int().min(7).max(365).default(90),
  /** `automatic` approves (and so deploys) every trained version no worse than the current; default `manual`. */
  trainingApproval: z.enum(['automatic', 'manual']).optional(),
  /**
   * Where training reads its window: `per-build` (the feature CSVs, object by object) or `compacted` (the
   * Firehose-compacted Parquet table through Athena, a stratified sample; also expires the per-build CSVs
   * after 35 days). The compacted table fills from the day the stream is deployed: switch once it holds
   * `trainingWindowDays` of history. Default `per-build`, what existing installations train on.
   */
  trainingSource: z.enum(TRAINING_SOURCES).default('per-build'),
  /** Instance type of the SageMaker endpoint (`scorer: 'endpoint'`); default `ml.t2.medium`. */
  endpointInstanceType: z
    .string()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'must be a SageMaker instance type like ml.t2.medium')
    .optional(),
  /** Target-tracking autoscaling of the endpoint; enable once its first model version is deployed. */
  endpointAutoscaling: z
    .strictObject({
      minCapacity: z.number().int().min(1),
      maxCapacity: z.number().int().min(1),
      invocationsPerInstancePerMinute: z.number().positive(),
    })
    .refine((a) => a.maxCapacity >= a.minCapacity, 'maxCapacity must be at least minCapacity')
    .optional(),
  /**
   * Who hears about a project or pipeline: its notifications, escalations and daily digest go to the
   * owner's topic (a `topicArn`, or one the stack creates for an `email`) instead of the main topic.
   */
  owners: z
    .array(
      z
        .strictObject({
          project: z.string().min(1).optional(),
          pipeline: z.string().min(1).optional(),
          topicArn: z
            .string()
            .regex(
              /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/,
              'must be an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:team-ci',
            )
            .optional(),
          email: z.string().email().optional(),
        })
        .refine(
          (owner) => (owner.project === undefined) !== (owner.pipeline === undefined),
          'give exactly one of project and pipeline',
        )
        .refine(
          (owner) => (owner.topicArn === undefined) !== (owner.email === undefined),
          'give exactly one of topicArn and email',
        ),
    )
    .superRefine((owners, context) => {
      const seen = new Set<string>();
      owners.forEach((owner, index) => {
        const scope =
          owner.pipeline !== undefined ? `pipeline '${owner.pipeline}'` : `project '${owner.project}'`;
        if (seen.has(scope)) {
          context.addIssue({ code: 'custom', path: [index], message: `${scope} has more than one owner` });
        }
        seen.add(scope);
      });
    })
    .default([]),
});

export type PipemendConfig = z.infer<typeof pipemendConfigSchema>;

/** A `pipemend` context that cannot be deployed; the message names every wrong key or value. */
export class PipemendConfigError extends Error {
  override readonly name = 'PipemendConfigError';
}

/** Parses `pipemend` context (an object, or a JSON string from `--context pipemend='{...}'`). */
export function parsePipemendConfig(raw: unknown): PipemendConfig {
  const value = typeof raw === 'string' ? parseJson(raw) : (raw ?? {});
  const result = pipemendConfigSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map(describeIssue);
    throw new PipemendConfigError(`Invalid pipemend configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  if (issue.code !== 'unrecognized_keys') return `${where || '(root): '}${issue.message}`;
  const unknown = issue.keys.map((key) => `'${key}'`).join(', ');
  const accepted = Object.keys(schemaAt(issue.path)?._zod.def.shape ?? {}).join(', ');
  const noun = issue.keys.length > 1 ? 'unknown keys' : 'unknown key';
  return `${where}${noun} ${unknown} (accepted: ${accepted})`;
}

/**
 * The object schema that validated the value at `path`, to list the keys it accepts. Walks zod's core
 * classes, which both classic schemas and the zod/mini ones shared with the Lambda code (`trend`) extend.
 */
function schemaAt(path: readonly PropertyKey[]): z.core.$ZodObject | undefined {
  let schema: z.core.$ZodType = pipemendConfigSchema;
  for (const segment of path) {
    schema = unwrap(schema);
    if (schema instanceof z.core.$ZodArray && typeof segment === 'number') schema = schema._zod.def.element;
    else if (schema instanceof z.core.$ZodObject && typeof segment === 'string') {
      const field = schema._zod.def.shape[segment];
      if (field === undefined) return undefined;
      schema = field;
    } else return undefined;
  }
  const found = unwrap(schema);
  return found instanceof z.core.$ZodObject ? found : undefined;
}

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  while (current instanceof z.core.$ZodOptional || current instanceof z.core.$ZodDefault) {
    current = current._zod.def.innerType;
  }
  return current;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PipemendConfigError(
      `Invalid pipemend configuration: context 'pipemend' is not valid JSON (${(error as Error).message})`,
    );
  }
}
