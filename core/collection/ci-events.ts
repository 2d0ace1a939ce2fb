/**
 * Zod schemas of the EventBridge events Pipemend collects from, written from the documented shapes:
 * `CodeBuild Build State Change`, `CodePipeline Action Execution State Change` and
 * `CodePipeline Stage Execution State Change`. Unknown fields are kept (AWS adds fields over time);
 * the fields Pipemend relies on are required.
 */
import * as z from 'zod/mini';

import '../../lambda/shared/zod-messages';

export const CODEBUILD_SOURCE = 'aws.codebuild';
export const CODEPIPELINE_SOURCE = 'aws.codepipeline';
export const BUILD_STATE_CHANGE = 'CodeBuild Build State Change';
export const ACTION_STATE_CHANGE = 'CodePipeline Action Execution State Change';
export const STAGE_STATE_CHANGE = 'CodePipeline Stage Execution State Change';

/** Build states that end a build; `IN_PROGRESS` is the only other state change event. */
export const TERMINAL_EVENT_BUILD_STATUSES = [
  'SUCCEEDED',
  'FAILED',
  'FAULT',
  'STOPPED',
  'TIMED_OUT',
] as const;

/** Action/stage states after which nothing more happens to that execution of it. */
export const TERMINAL_PIPELINE_STATES = ['SUCCEEDED', 'FAILED', 'CANCELED', 'SUPERSEDED', 'STOPPED'] as const;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const CODEBUILD_TIME = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/;

/**
 * Parses CodeBuild's event timestamps ("Sep 1, 2017 4:12:29 PM", UTC) and ISO-8601 strings to ISO-8601.
 * Returns `undefined` for anything else.
 */
export function parseCodeBuildTime(value: string): string | undefined {
  const match = CODEBUILD_TIME.exec(value.trim());
  if (!match) {
    const iso = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
    return Number.isNaN(iso) ? undefined : new Date(iso).toISOString();
  }
  const [, monthName, day, year, hour, minute, second, meridiem] = match;
  const month = MONTHS.indexOf(monthName ?? '');
  const hour12 = Number(hour);
  if (month < 0 || hour12 < 1 || hour12 > 12) return undefined;
  const hour24 = (hour12 % 12) + (meridiem === 'PM' ? 12 : 0);
  const date = new Date(Date.UTC(Number(year), month, Number(day), hour24, Number(minute), Number(second)));
  // Date.UTC silently rolls "Feb 31" over; a rolled date is not what CodeBuild sent.
  if (date.getUTCDate() !== Number(day) || Number(minute) > 59 || Number(second) > 59) return undefined;
  return date.toISOString();
}

const codeBuildTime = z.pipe(
  z.string(),
  z.transform((value: string, ctx) => {
    const iso = parseCodeBuildTime(value);
    if (iso === undefined) {
      ctx.issues.push({ code: 'custom', message: `not a CodeBuild timestamp: '${value}'`, input: value });
      return z.NEVER;
    }
    return iso;
  }),
);

const BUILD_ARN = /^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:build\/[^:/]+:[^/]+$/;

const envelope = {
  version: z.string(),
  id: z.string().check(z.minLength(1)),
  account: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id')),
  time: z.iso.datetime({ offset: true }),
  region: z.string().check(z.minLength(1)),
  resources: z._default(z.array(z.string()), []),
};

const eventNumber = z.union([
  z.number(),
  z.pipe(
    z.string().check(z.regex(/^\d+(\.\d+)?$/)),
    z.transform((value: string) => Number(value)),
  ),
]);

const codeBuildPhaseSchema = z.looseObject({
  'phase-type': z.string(),
  'phase-status': z.optional(z.string()),
  'duration-in-seconds': z.optional(eventNumber),
  'start-time': z.optional(codeBuildTime),
  'end-time': z.optional(codeBuildTime),
  'phase-context': z.optional(z.array(z.string())),
});

export const codeBuildStateChangeSchema = z.object({
  ...envelope,
  source: z.literal(CODEBUILD_SOURCE),
  'detail-type': z.literal(BUILD_STATE_CHANGE),
  detail: z.looseObject({
    'build-status': z.enum(['IN_PROGRESS', ...TERMINAL_EVENT_BUILD_STATUSES]),
    'project-name': z.string().check(z.minLength(1)),
    'build-id': z.string().check(z.regex(BUILD_ARN, 'must be a CodeBuild build ARN')),
    'current-phase': z.optional(z.string()),
    'current-phase-context': z.optional(z.string()),
    version: z.optional(z.string()),
    'additional-information': z.optional(
      z.looseObject({
        'build-complete': z.optional(z.boolean()),
        'build-number': z.optional(eventNumber),
        initiator: z.optional(z.string()),
        'build-start-time': z.optional(codeBuildTime),
        'source-version': z.optional(z.string()),
        'timeout-in-minutes': z.optional(eventNumber),
        'queued-timeout-in-minutes': z.optional(eventNumber),
        environment: z.optional(
          z.looseObject({ 'compute-type': z.optional(z.string()), image: z.optional(z.string()) }),
        ),
        logs: z.optional(
          z.looseObject({
            'group-name': z.optional(z.string()),
            'stream-name': z.optional(z.string()),
            'deep-link': z.optional(z.string()),
          }),
        ),
        phases: z.optional(z.array(codeBuildPhaseSchema)),
      }),
    ),
  }),
});

const pipelineDetail = {
  pipeline: z.string().check(z.minLength(1)),
  'execution-id': z.string().check(z.minLength(1)),
  stage: z.string().check(z.minLength(1)),
  /** The pipeline structure version. */
  version: z.optional(eventNumber),
  'pipeline-execution-attempt': z.optional(eventNumber),
  'start-time': z.optional(z.string()),
};

const pipelineState = z.enum(['STARTED', 'RESUMED', 'STOPPING', ...TERMINAL_PIPELINE_STATES]);

export const codePipelineActionStateChangeSchema = z.object({
  ...envelope,
  source: z.literal(CODEPIPELINE_SOURCE),
  'detail-type': z.literal(ACTION_STATE_CHANGE),
  detail: z.looseObject({
    ...pipelineDetail,
    action: z.string().check(z.minLength(1)),
    state: pipelineState,
    region: z.optional(z.string()),
    type: z.looseObject({
      owner: z.string(),
      category: z.string(),
      provider: z.string(),
      version: z.union([z.string(), z.number()]),
    }),
    'execution-result': z.optional(
      z.looseObject({
        'external-execution-id': z.optional(z.string()),
        'external-execution-summary': z.optional(z.string()),
        'external-execution-url': z.optional(z.string()),
        'error-code': z.optional(z.string()),
      }),
    ),
  }),
});

export const codePipelineStageStateChangeSchema = z.object({
  ...envelope,
  source: z.literal(CODEPIPELINE_SOURCE),
  'detail-type': z.literal(STAGE_STATE_CHANGE),
  detail: z.looseObject({ ...pipelineDetail, state: pipelineState }),
});

export type CodeBuildStateChange = z.infer<typeof codeBuildStateChangeSchema>;
export type CodePipelineActionStateChange = z.infer<typeof codePipelineActionStateChangeSchema>;
export type CodePipelineStageStateChange = z.infer<typeof codePipelineStageStateChangeSchema>;

export type CiEvent =
  | { readonly kind: 'build'; readonly event: CodeBuildStateChange }
  | { readonly kind: 'action'; readonly event: CodePipelineActionStateChange }
  | { readonly kind: 'stage'; readonly event: CodePipelineStageStateChange };

export type CiEventParse =
  | { readonly ok: true; readonly value: CiEvent }
  | { readonly ok: false; readonly reason: string; readonly eventId?: string };

const SCHEMAS = {
  [BUILD_STATE_CHANGE]: { kind: 'build', schema: codeBuildStateChangeSchema },
  [ACTION_STATE_CHANGE]: { kind: 'action', schema: codePipelineActionStateChangeSchema },
  [STAGE_STATE_CHANGE]: { kind: 'stage', schema: codePipelineStageStateChangeSchema },
} as const;

/** Validates an EventBridge event; a rejection names what was wrong (never throws). */
export function parseCiEvent(raw: unknown): CiEventParse {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: 'event is not a JSON object' };
  }
  const candidate = raw as Record<string, unknown>;
  const eventId = typeof candidate.id === 'string' ? candidate.id : undefined;
  const detailType = candidate['detail-type'];
  if (typeof detailType !== 'string' || !(detailType in SCHEMAS)) {
    return {
      ok: false,
      eventId,
      reason: `unsupported detail-type ${JSON.stringify(detailType ?? null)} (expected one of: ${Object.keys(SCHEMAS).join(', ')})`,
    };
  }
  const { kind, schema } = SCHEMAS[detailType as keyof typeof SCHEMAS];
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    return { ok: false, eventId, reason: `malformed '${detailType}' event: ${problems.join('; ')}` };
  }
  return { ok: true, value: { kind, event: result.data } as CiEvent };
}

/** `arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>` → `<project>:<uuid>`. */
export function buildIdFromArn(buildArn: string): string {
  const slash = buildArn.indexOf(':build/');
  return slash < 0 ? buildArn : buildArn.slice(slash + ':build/'.length);
}
