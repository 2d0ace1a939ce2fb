/**
 * Finds the CodeBuild build a stage of a pipeline execution ran, from the execution's action executions
 * (`ListActionExecutions` → `output.executionResult.externalExecutionId`, the CodeBuild build id). This is
 * what lets a CodePipeline V2 stage-condition rule score a build without the build exporting its id.
 */
import {
  ActionExecutionDetail,
  CodePipelineClient,
  paginateListActionExecutions,
} from '@aws-sdk/client-codepipeline';

/** Where the build to score ran: a stage (and optionally one action) of one pipeline execution. */
export interface StageBuildLocation {
  readonly pipelineName: string;
  readonly pipelineExecutionId: string;
  readonly stageName: string;
  /** Needed only when the stage has several CodeBuild actions. */
  readonly actionName?: string;
}

/** The stage holds no (matching) CodeBuild action execution with a build id: a configuration problem. */
export class StageBuildNotFoundError extends Error {
  override readonly name = 'StageBuildNotFoundError';
}

const CODEBUILD_BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*:[A-Za-z0-9-]+$/;

/**
 * The build id (`<project>:<uuid>`) of the newest attempt of the stage's CodeBuild action in the execution.
 * Reads every page; only `AWS`/`CodeBuild` actions count. Throws StageBuildNotFoundError when there is none,
 * or when several CodeBuild actions ran and `actionName` does not pick one. AWS errors (throttling after
 * the SDK's retries, AccessDenied) propagate unchanged for the caller to answer the job with.
 */
export async function findStageBuild(
  client: CodePipelineClient,
  location: StageBuildLocation,
): Promise<string> {
  const { pipelineName, pipelineExecutionId, stageName, actionName } = location;
  const candidates: ActionExecutionDetail[] = [];
  for await (const page of paginateListActionExecutions(
    { client },
    { pipelineName, filter: { pipelineExecutionId } },
  )) {
    for (const detail of page.actionExecutionDetails ?? []) {
      if (detail.pipelineExecutionId !== undefined && detail.pipelineExecutionId !== pipelineExecutionId)
        continue;
      if (detail.stageName !== stageName) continue;
      const type = detail.input?.actionTypeId;
      if (type?.owner !== 'AWS' || type.provider !== 'CodeBuild') continue;
      if (actionName !== undefined && detail.actionName !== actionName) continue;
      candidates.push(detail);
    }
  }
  const where = `stage '${stageName}' of execution ${pipelineExecutionId} of pipeline '${pipelineName}'`;
  if (candidates.length === 0) {
    throw new StageBuildNotFoundError(
      actionName === undefined
        ? `no CodeBuild action ran in ${where}`
        : `no CodeBuild action named '${actionName}' ran in ${where}`,
    );
  }
  const names = [...new Set(candidates.map((detail) => detail.actionName ?? '?'))].sort();
  if (names.length > 1) {
    throw new StageBuildNotFoundError(
      `${names.length} CodeBuild actions ran in ${where} (${names.join(', ')}): set actionName to pick the build to score`,
    );
  }
  // A retried stage runs the action again: the newest attempt is the one the stage's outcome rests on.
  const newest = candidates.reduce((latest, detail) =>
    (detail.startTime?.getTime() ?? 0) > (latest.startTime?.getTime() ?? 0) ? detail : latest,
  );
  const buildId = newest.output?.executionResult?.externalExecutionId;
  if (!buildId) {
    throw new StageBuildNotFoundError(
      `CodeBuild action '${newest.actionName ?? '?'}' in ${where} has no build id yet (status ${newest.status ?? 'unknown'})`,
    );
  }
  const id = buildId.replace(/^arn:[^/]+\//, '');
  if (!CODEBUILD_BUILD_ID.test(id)) {
    throw new StageBuildNotFoundError(
      `CodeBuild action '${newest.actionName ?? '?'}' in ${where} names '${buildId}', which is not a CodeBuild build id`,
    );
  }
  return id;
}
