/**
 * The scorer's entry points over one core: CodePipeline jobs — the V1 Lambda invoke action and the V2
 * stage-condition `LambdaInvoke` rule, each answered with exactly one PutJobSuccessResult or
 * PutJobFailureResult — and the EventBridge target for `CodeBuild Build State Change` of builds outside
 * CodePipeline.
 */
import {
  CodePipelineClient,
  FailureType,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import * as z from 'zod/mini';

import { recordScoringError, recordVerdict, VerdictSink } from './outputs';
import { findStageBuild, StageBuildLocation, StageBuildNotFoundError } from './pipeline-builds';
import { BuildRecord } from '../../core/collection/build-record';
import { scoreBuild, ScoringPorts } from '../../core/scoring/score-build';
import { InvalidScoringRequestError, ModelUnavailableError } from '../../core/scoring/scoring-errors';
import { BuildVerdict } from '../../core/scoring/verdict';
import { logger } from '../shared/powertools';
import '../shared/zod-messages';

/** PutJobFailureResult's `failureDetails.message` is 1–5,000 characters. */
export const FAILURE_MESSAGE_LIMIT = 5000;
/** PutJobSuccessResult's `executionDetails.summary` is at most 2,048 characters. */
export const SUMMARY_LIMIT = 2048;

export interface BuildRecordSource {
  load(buildId: string, endedAround: Date): Promise<BuildRecord>;
}

export interface ScorerDependencies {
  readonly records: BuildRecordSource;
  readonly scoring: ScoringPorts;
  readonly sink: VerdictSink;
  readonly codePipeline: CodePipelineClient;
  readonly now?: () => Date;
}

export type ScorerResult =
  | { readonly kind: 'job'; readonly jobId: string; readonly outcome: 'success' | 'failure' }
  | { readonly kind: 'build'; readonly buildId: string; readonly verdict: BuildVerdict['verdict'] }
  | { readonly kind: 'ignored'; readonly reason: string };

const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*:[A-Za-z0-9-]+$/;
const PIPELINE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
const PIPELINE_EXECUTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STAGE_OR_ACTION_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;

function unresolvedOr(message: string) {
  return (issue: { input: unknown }): string =>
    String(issue.input).includes('#{')
      ? `'${String(issue.input)}' is an unresolved pipeline variable`
      : `'${String(issue.input)}' ${message}`;
}
const BUILD_ARN =
  /^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:build\/([A-Za-z0-9][A-Za-z0-9_-]*:[A-Za-z0-9-]+)$/;

/**
 * `UserParameters` of the invoke action or of the stage-condition rule (a JSON string). Either `buildId`
 * names the build, or `pipelineName` + `pipelineExecutionId` + `stageName` (+ `actionName`) say where it
 * ran and the scorer looks it up. Unknown keys are typos, not extensions.
 */
export const userParametersSchema = z
  .strictObject({
    /** `gate` fails the action (or rule) on an anomaly; `observe` only records the verdict. */
    mode: z.enum(['gate', 'observe']),
    /** The build to score: CodeBuild id (`<project>:<uuid>`) or ARN, usually `#{<namespace>.CODEBUILD_BUILD_ID}`. */
    buildId: z.optional(
      z.string().check(
        z.refine((value) => BUILD_ID.test(value) || BUILD_ARN.test(value), {
          error: (issue) =>
            String(issue.input).includes('#{')
              ? `'${String(issue.input)}' is an unresolved pipeline variable: export CODEBUILD_BUILD_ID from the build action (buildspec env.exported-variables) and reference it from its namespace`
              : `'${String(issue.input)}' is not a CodeBuild build id (<project>:<uuid>) or build ARN`,
        }),
      ),
    ),
    /** The pipeline whose execution ran the build (a rule cannot learn it from the job). */
    pipelineName: z.optional(
      z.string().check(
        z.refine((value) => PIPELINE_NAME.test(value), {
          error: unresolvedOr('is not a CodePipeline pipeline name'),
        }),
      ),
    ),
    /** The execution, usually `#{codepipeline.PipelineExecutionId}`. */
    pipelineExecutionId: z.optional(
      z.string().check(
        z.refine((value) => PIPELINE_EXECUTION_ID.test(value), {
          error: unresolvedOr('is not a pipeline execution id'),
        }),
      ),
    ),
    /** The stage whose CodeBuild action ran the build. */
    stageName: z.optional(
      z.string().check(
        z.refine((value) => STAGE_OR_ACTION_NAME.test(value), {
          error: unresolvedOr('is not a stage name'),
        }),
      ),
    ),
    /** The CodeBuild action, when the stage has several. */
    actionName: z.optional(
      z.string().check(
        z.refine((value) => STAGE_OR_ACTION_NAME.test(value), {
          error: unresolvedOr('is not an action name'),
        }),
      ),
    ),
    /**
     * Who invokes: the invoke action (answers carry output variables) or a stage-condition rule (rules have
     * no variable namespace, so the answer carries none).
     */
    invokedBy: z.optional(z.enum(['action', 'rule'])),
  })
  .check(
    z.refine(
      (value) =>
        value.buildId !== undefined ||
        (value.pipelineName !== undefined &&
          value.pipelineExecutionId !== undefined &&
          value.stageName !== undefined),
      {
        error:
          'name the build to score: either buildId, or pipelineName, pipelineExecutionId and stageName (where the CodeBuild action ran)',
      },
    ),
  );

export type UserParameters = z.infer<typeof userParametersSchema>;

const jobEventSchema = z.object({
  'CodePipeline.job': z.looseObject({
    id: z.string().check(z.minLength(1)),
    data: z.looseObject({
      actionConfiguration: z.looseObject({
        configuration: z.looseObject({ UserParameters: z.optional(z.string()) }),
      }),
    }),
  }),
});

const buildStateChangeSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  source: z.literal('aws.codebuild'),
  'detail-type': z.literal('CodeBuild Build State Change'),
  time: z.iso.datetime({ offset: true }),
  detail: z.looseObject({
    'build-status': z.string(),
    'build-id': z.string().check(z.regex(BUILD_ARN, 'must be a CodeBuild build ARN')),
  }),
});

export function createScorer(deps: ScorerDependencies): (event: unknown) => Promise<ScorerResult> {
  const now = deps.now ?? (() => new Date());
  const score = async (record: BuildRecord): Promise<BuildVerdict> => {
    const scored = await scoreBuild(record, deps.scoring);
    const { verdict } = scored;
    logger.info('build scored', {
      buildId: verdict.buildId,
      verdict: verdict.verdict,
      score: verdict.score,
      threshold: verdict.threshold,
      scorer: verdict.scorer,
      modelVersion: verdict.modelVersion,
      baselineReason: scored.baselineReason,
    });
    await recordVerdict(verdict, deps.sink);
    return verdict;
  };

  return async (event) => {
    if (isObject(event) && 'CodePipeline.job' in event) return answerJob(event, score);
    if (isObject(event) && event.source === 'aws.codebuild')
      return scoreBuildEvent(event, deps.records, score);
    throw new InvalidScoringRequestError(
      `unsupported event: expected a CodePipeline job ("CodePipeline.job") or a "CodeBuild Build State Change", got keys ${JSON.stringify(isObject(event) ? Object.keys(event) : typeof event)}`,
    );
  };

  async function answerJob(
    event: Record<string, unknown>,
    scoreRecord: (record: BuildRecord) => Promise<BuildVerdict>,
  ): Promise<ScorerResult> {
    const client = deps.codePipeline;
    const parsed = jobEventSchema.safeParse(event);
    if (!parsed.success) {
      // Without a job id there is nobody to answer; the invocation fails into the async DLQ.
      throw new InvalidScoringRequestError(`malformed CodePipeline job event: ${describe(parsed.error)}`);
    }
    // Only the id and the configuration leave this point: never the artifactCredentials.
    const job = parsed.data['CodePipeline.job'];
    const jobId = job.id;
    const answer = await decideJob(
      job.data.actionConfiguration.configuration.UserParameters,
      (location) => findStageBuild(client, location),
      (buildId) => deps.records.load(buildId, now()),
      scoreRecord,
    );
    try {
      if (answer.outcome === 'success') {
        await client.send(
          new PutJobSuccessResultCommand({
            jobId,
            ...(answer.outputVariables ? { outputVariables: answer.outputVariables } : {}),
            executionDetails: { summary: truncate(answer.summary, SUMMARY_LIMIT) },
          }),
        );
      } else {
        await client.send(
          new PutJobFailureResultCommand({
            jobId,
            failureDetails: {
              type: answer.type,
              message: truncate(answer.message, FAILURE_MESSAGE_LIMIT),
              ...(answer.externalExecutionId ? { externalExecutionId: answer.externalExecutionId } : {}),
            },
          }),
        );
      }
    } catch (error) {
      const name = (error as Error).name;
      // A retried invocation of a job that an earlier attempt already answered: nothing left to do.
      if (name === 'InvalidJobStateException' || name === 'JobNotFoundException') {
        logger.warn('CodePipeline job already answered or gone', { jobId, error: name });
        return { kind: 'job', jobId, outcome: answer.outcome };
      }
      throw error;
    }
    logger.info('CodePipeline job answered', { jobId, outcome: answer.outcome });
    return { kind: 'job', jobId, outcome: answer.outcome };
  }
}

type JobAnswer =
  | {
      readonly outcome: 'success';
      /** Absent for a stage-condition rule, which has no variable namespace. */
      readonly outputVariables?: Record<string, string>;
      readonly summary: string;
    }
  | {
      readonly outcome: 'failure';
      readonly type: FailureType;
      readonly message: string;
      readonly externalExecutionId?: string;
    };

const UNSCORED_VARIABLES = { verdict: 'UNSCORED', score: '', threshold: '', scorer: '', modelVersion: '' };

/** Every path ends in exactly one answer; a thrown error becomes a failure (gate) or an unscored success (observe). */
async function decideJob(
  rawParameters: string | undefined,
  locateBuild: (location: StageBuildLocation) => Promise<string>,
  loadRecord: (buildId: string) => Promise<BuildRecord>,
  scoreRecord: (record: BuildRecord) => Promise<BuildVerdict>,
): Promise<JobAnswer> {
  let parameters: UserParameters;
  try {
    parameters = parseUserParameters(rawParameters);
  } catch (error) {
    return { outcome: 'failure', type: 'ConfigurationError', message: (error as Error).message };
  }
  const forRule = parameters.invokedBy === 'rule';
  const variables = (values: Record<string, string>) => (forRule ? {} : { outputVariables: values });

  let buildId: string;
  if (parameters.buildId !== undefined) {
    buildId = parameters.buildId.replace(/^arn:[^/]+\//, '');
  } else {
    const location: StageBuildLocation = {
      pipelineName: parameters.pipelineName!,
      pipelineExecutionId: parameters.pipelineExecutionId!,
      stageName: parameters.stageName!,
      ...(parameters.actionName !== undefined ? { actionName: parameters.actionName } : {}),
    };
    try {
      buildId = await locateBuild(location);
    } catch (error) {
      const err = error as Error;
      logger.error('could not find the build to score', { ...location, mode: parameters.mode, error: err });
      recordScoringError(`pipeline:${location.pipelineName}`, err);
      const message = `Pipemend could not find the build to score in stage '${location.stageName}' of pipeline '${location.pipelineName}' (execution ${location.pipelineExecutionId}): ${err.name}: ${err.message}${locateHint(err)}`;
      if (parameters.mode === 'observe') {
        return { outcome: 'success', ...variables(UNSCORED_VARIABLES), summary: message };
      }
      return { outcome: 'failure', type: locateFailureType(err), message };
    }
  }
  try {
    const verdict = await scoreRecord(await loadRecord(buildId));
    const summary = summarize(verdict);
    if (verdict.anomalous && parameters.mode === 'gate') {
      return { outcome: 'failure', type: 'JobFailed', message: summary, externalExecutionId: buildId };
    }
    return { outcome: 'success', ...variables(outputVariables(verdict)), summary };
  } catch (error) {
    const err = error as Error;
    logger.error('scoring failed', { buildId, mode: parameters.mode, error: err });
    recordScoringError(buildId.slice(0, buildId.lastIndexOf(':')), err);
    const message = `Pipemend could not score build ${buildId}: ${err.name}: ${err.message}`;
    if (parameters.mode === 'observe') {
      return { outcome: 'success', ...variables(UNSCORED_VARIABLES), summary: message };
    }
    const type: FailureType = err instanceof ModelUnavailableError ? 'SystemUnavailable' : 'JobFailed';
    return { outcome: 'failure', type, message, externalExecutionId: buildId };
  }
}

const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
const DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation']);

function locateFailureType(error: Error): FailureType {
  if (error instanceof StageBuildNotFoundError) return 'ConfigurationError';
  if (error.name === 'PipelineNotFoundException' || error.name === 'PipelineExecutionNotFoundException')
    return 'ConfigurationError';
  if (DENIED.has(error.name)) return 'PermissionError';
  if (THROTTLED.has(error.name)) return 'SystemUnavailable';
  return 'JobFailed';
}

function locateHint(error: Error): string {
  if (DENIED.has(error.name))
    return " (the scorer's role needs codepipeline:ListActionExecutions on this pipeline: add it to Pipemend's watched pipelines)";
  if (THROTTLED.has(error.name)) return ' (CodePipeline throttled the lookup; retry the stage)';
  return '';
}

export function parseUserParameters(raw: string | undefined): UserParameters {
  if (raw === undefined || raw.trim() === '') {
    throw new InvalidScoringRequestError(
      'UserParameters is empty: expected JSON like {"mode":"gate","buildId":"#{Build.CODEBUILD_BUILD_ID}"} or {"mode":"gate","pipelineName":"<pipeline>","pipelineExecutionId":"#{codepipeline.PipelineExecutionId}","stageName":"Build"}',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new InvalidScoringRequestError(
      `UserParameters is not valid JSON (${(error as Error).message}): ${raw}`,
    );
  }
  const result = userParametersSchema.safeParse(json);
  if (!result.success)
    throw new InvalidScoringRequestError(`invalid UserParameters: ${describe(result.error)}`);
  return result.data;
}

async function scoreBuildEvent(
  event: Record<string, unknown>,
  records: BuildRecordSource,
  scoreRecord: (record: BuildRecord) => Promise<BuildVerdict>,
): Promise<ScorerResult> {
  const parsed = buildStateChangeSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidScoringRequestError(
      `malformed CodeBuild Build State Change event: ${describe(parsed.error)}`,
    );
  }
  const { detail, time, id } = parsed.data;
  const buildId = BUILD_ARN.exec(detail['build-id'])![1]!;
  if (detail['build-status'] === 'IN_PROGRESS') {
    return { kind: 'ignored', reason: `build ${buildId} is still in progress (event ${id})` };
  }
  const verdict = await scoreRecord(await records.load(buildId, new Date(time)));
  return { kind: 'build', buildId, verdict: verdict.verdict };
}

/** Action output variables (strings), readable downstream as `#{<namespace>.<name>}`. */
export function outputVariables(verdict: BuildVerdict): Record<string, string> {
  return {
    verdict: verdict.verdict,
    score: String(round(verdict.score)),
    threshold: String(round(verdict.threshold)),
    scorer: verdict.scorer,
    modelVersion: verdict.modelVersion ?? '',
  };
}

/** One line for the console: the decision, the scorer, and the features that drove the score. */
export function summarize(verdict: BuildVerdict): string {
  const drivers = verdict.explanation
    .slice(0, 3)
    .map(
      (c) =>
        `${c.feature} ${c.direction} (${round(c.value)} vs typical ${c.typical === undefined ? '?' : round(c.typical)}, ${Math.round(c.share * 100)}%)`,
    )
    .join('; ');
  const model = verdict.modelVersion ? ` model ${verdict.modelVersion}` : '';
  return `${verdict.verdict}: build ${verdict.buildId} scored ${round(verdict.score)} against threshold ${round(verdict.threshold)} (${verdict.scorer}${model})${drivers ? `; drivers: ${drivers}` : ''}`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function describe(error: z.core.$ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
