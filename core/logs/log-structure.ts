/**
 * The structure of a CI log: which CI system wrote it, where its steps start and end, which step failed
 * and where the post-failure epilogue (after-failure scripts, cache uploads, clean-up) begins. The cause
 * of a failure is almost always in the failing step's own output, usually near its end; setup noise in a
 * step that succeeded, and boilerplate after the failure, are not.
 *
 * What each CI system prints (lines as `cleanLine` returns them: colours and timestamps removed):
 * - Travis CI: setup in `travis_fold:start:<name>` folds, every command echoed as `$ <command>`, each
 *   script command's result as `The command "<command>" exited with <n>.` (or `failed and exited with
 *   <n> during <stage>.`, `failed <n> times.`), then after_failure/cache/after_script and
 *   `Done. Your build exited with <n>.`
 * - GitLab CI: `section_start:<unix time>:<name>` / `section_end:<unix time>:<name>` markers around the
 *   runner's stages (`prepare_executor`, `get_sources`, `step_script`, `after_script`, ...), commands
 *   echoed as `$ <command>`, and `ERROR: Job failed: <reason>` at the end.
 * - GitHub Actions: `##[group]Run <command>` per step and `##[error]Process completed with exit code <n>.`
 * - AWS CodeBuild: `[Container] <time> Entering phase <PHASE>`, `Running command <command>`,
 *   `Command did not exit successfully <command> exit status <n>`, `Phase complete: <PHASE> State: FAILED`.
 * - Jenkins: `[Pipeline] { (<stage>)`, `+ <command>` (shell trace), `ERROR: script returned exit code <n>`,
 *   `Build step '<step>' marked build as failure`, `Finished: FAILURE`.
 */

export type CiSystem = 'travis' | 'gitlab' | 'github-actions' | 'codebuild' | 'jenkins' | 'unknown';

export interface FailingStep {
  /** 0-based index of the step's first line (its command echo or section start). */
  readonly start: number;
  /** 0-based index of the line that reports the step's failure (or the log's last line). */
  readonly end: number;
  /** The command or section name, when the log names it. */
  readonly name?: string;
  /** The CodeBuild phase the step belongs to, when the log says so (CodeBuild and GitLab logs). */
  readonly phase?: string;
}

export interface LogStructure {
  readonly system: CiSystem;
  /** The steps that failed, in log order; the last step of the log when no failure is reported. */
  readonly failingSteps: readonly FailingStep[];
  /** 0-based index from which the log is post-failure epilogue; absent when none is recognised. */
  readonly epilogueStart?: number;
}

const TRAVIS_RESULT =
  /^The command "(.*)" (?:exited with (\d+)|failed and exited with (\d+)|failed (\d+) times)/;
const TRAVIS_DONE = /^Done\. Your build exited with \d+\.?$/;
const GITLAB_SECTION = /section_(start|end):\d+:([A-Za-z0-9_.-]+)/;
const GITLAB_JOB_FAILED = /^ERROR: Job failed\b/;
const GITHUB_GROUP = /^##\[group\](.*)$/;
const GITHUB_FAILED = /^##\[error\]Process completed with exit code [1-9]/;
const CODEBUILD_PHASE = /^Entering phase (\w+)/;
const CODEBUILD_COMMAND = /^Running command (.*)$/;
const CODEBUILD_FAILED = /^(?:Command did not exit successfully|Phase complete: (\w+) State: FAILED)/;
const JENKINS_MARKERS = /^\[Pipeline\] |^Finished: (?:FAILURE|SUCCESS|UNSTABLE)$|marked build as failure$/;
// The build's result, not the step's: post-build actions after "marked build as failure" (publishers, archivers)
// fail builds too.
const JENKINS_FAILED = /^Finished: FAILURE$/;
const COMMAND_ECHO = /^\$ \S/;

/** GitLab runner sections that run after a failure too: never the failed one. */
export const GITLAB_ALWAYS_RUN: ReadonlySet<string> = new Set([
  'after_script',
  'archive_cache_on_failure',
  'upload_artifacts_on_failure',
  'cleanup_file_variables',
]);
/** GitLab runner section name → the CodeBuild phase that does the same work. Unknown: the job's own steps. */
export const GITLAB_PHASES: Readonly<Record<string, string>> = {
  resolve_secrets: 'PROVISIONING',
  prepare_executor: 'PROVISIONING',
  prepare_script: 'PROVISIONING',
  get_sources: 'DOWNLOAD_SOURCE',
  clear_worktree: 'DOWNLOAD_SOURCE',
  restore_cache: 'INSTALL',
  download_artifacts: 'INSTALL',
  step_script: 'BUILD',
  build_script: 'BUILD',
  after_script: 'POST_BUILD',
  archive_cache: 'UPLOAD_ARTIFACTS',
  upload_artifacts_on_success: 'UPLOAD_ARTIFACTS',
  archive_cache_on_failure: 'UPLOAD_ARTIFACTS',
  upload_artifacts_on_failure: 'UPLOAD_ARTIFACTS',
  cleanup_file_variables: 'FINALIZING',
};

/** Which CI system wrote the log, by the markers only that system prints. */
export function detectCiSystem(lines: readonly string[]): CiSystem {
  let jenkins = 0;
  for (const line of lines) {
    if (line.includes('travis_fold:') || TRAVIS_RESULT.test(line) || TRAVIS_DONE.test(line)) return 'travis';
    if (GITLAB_SECTION.test(line) || GITLAB_JOB_FAILED.test(line)) return 'gitlab';
    if (GITHUB_GROUP.test(line) || GITHUB_FAILED.test(line)) return 'github-actions';
    if (CODEBUILD_PHASE.test(line) || /^Phase complete: \w+ State: /.test(line)) return 'codebuild';
    if (JENKINS_MARKERS.test(line)) jenkins += 1;
  }
  return jenkins > 0 ? 'jenkins' : 'unknown';
}

/** The structure of a log given as cleaned lines (see `cleanLine`). */
export function analyseLogStructure(lines: readonly string[]): LogStructure {
  const system = detectCiSystem(lines);
  switch (system) {
    case 'travis':
      return travis(lines);
    case 'gitlab':
      return gitlab(lines);
    case 'github-actions':
      return markerSteps(system, lines, (line) => GITHUB_GROUP.exec(line)?.[1], GITHUB_FAILED);
    case 'codebuild':
      return codebuild(lines);
    case 'jenkins':
      return markerSteps(
        system,
        lines,
        (line) => (/^\+ \S/.test(line) ? line.slice(2) : undefined),
        JENKINS_FAILED,
      );
    default:
      return { system, failingSteps: [lastStep(lines, lines.length - 1, 0)] };
  }
}

/** The step ending at `end`: from the last command echo at or before it (not before `floor`). */
function lastStep(lines: readonly string[], end: number, floor: number, name?: string): FailingStep {
  let start = floor;
  for (let index = end; index >= floor; index -= 1) {
    const line = lines[index]!;
    if (COMMAND_ECHO.test(line) && (name === undefined || line.slice(2).startsWith(name.slice(0, 40)))) {
      start = index;
      break;
    }
  }
  if (start === floor && name !== undefined) return lastStep(lines, end, floor);
  return { start, end, ...(name !== undefined ? { name } : {}) };
}

function travis(lines: readonly string[]): LogStructure {
  const steps: FailingStep[] = [];
  let floor = 0;
  let firstFailureEnd: number | undefined;
  lines.forEach((line, index) => {
    const result = TRAVIS_RESULT.exec(line);
    if (!result) return;
    const code = result[2] ?? result[3];
    const failed = code === undefined ? true : code !== '0';
    if (failed) {
      steps.push(lastStep(lines, index, floor, result[1]));
      firstFailureEnd ??= index;
    }
    floor = index + 1;
  });
  if (steps.length === 0) {
    // No result line: the log was cut (a time-out or a killed job); the last command is the failing one.
    return { system: 'travis', failingSteps: [lastStep(lines, lines.length - 1, 0)] };
  }
  const last = steps[steps.length - 1]!;
  // After the last failing command come after_failure/cache/after_script folds and the build's result.
  let epilogueStart: number | undefined;
  for (let index = last.end + 1; index < lines.length; index += 1) {
    if (/travis_fold:start:|^\$ /.test(lines[index]!) || TRAVIS_DONE.test(lines[index]!)) {
      epilogueStart = index;
      break;
    }
  }
  return { system: 'travis', failingSteps: steps, ...(epilogueStart !== undefined ? { epilogueStart } : {}) };
}

function gitlab(lines: readonly string[]): LogStructure {
  // A log's tail may have lost a section's start marker: its end marker still names it.
  const sections: { name: string; start: number }[] = [];
  lines.forEach((line, index) => {
    for (const match of line.matchAll(new RegExp(GITLAB_SECTION.source, 'g'))) {
      const name = match[2]!;
      if (match[1] === 'start') sections.push({ name, start: index });
      else if (!sections.some((section) => section.name === name)) sections.push({ name, start: 0 });
    }
  });
  const failedIndex = sections
    .map((section) => section.name)
    .findLastIndex((name) => !GITLAB_ALWAYS_RUN.has(name));
  const failed = sections[failedIndex];
  const next = sections[failedIndex + 1];
  const end = next ? Math.max(next.start - 1, failed?.start ?? 0) : lines.length - 1;
  if (!failed) return { system: 'gitlab', failingSteps: [lastStep(lines, lines.length - 1, 0)] };
  const step = lastStep(lines, end, failed.start);
  return {
    system: 'gitlab',
    failingSteps: [
      {
        // The section is the step; its last echoed command is where the failure shows.
        start: step.start,
        end,
        name: failed.name,
        phase: GITLAB_PHASES[failed.name] ?? 'BUILD',
      },
    ],
    ...(next ? { epilogueStart: next.start } : {}),
  };
}

function codebuild(lines: readonly string[]): LogStructure {
  let phase: string | undefined;
  let commandStart = 0;
  let phaseStart = 0;
  const steps: FailingStep[] = [];
  lines.forEach((line, index) => {
    const entering = CODEBUILD_PHASE.exec(line);
    if (entering) {
      phase = entering[1];
      phaseStart = index;
      commandStart = index;
      return;
    }
    if (CODEBUILD_COMMAND.test(line)) commandStart = index;
    const failed = CODEBUILD_FAILED.exec(line);
    if (failed && !steps.some((step) => step.start === commandStart)) {
      steps.push({
        start: failed[1] ? phaseStart : commandStart,
        end: index,
        ...(phase !== undefined ? { phase } : {}),
        ...(CODEBUILD_COMMAND.exec(lines[commandStart] ?? '')?.[1] !== undefined
          ? { name: CODEBUILD_COMMAND.exec(lines[commandStart]!)![1]! }
          : {}),
      });
    }
  });
  if (steps.length === 0)
    return { system: 'codebuild', failingSteps: [lastStep(lines, lines.length - 1, 0)] };
  return { system: 'codebuild', failingSteps: steps.slice(0, 1) };
}

/** Systems that mark a step's start (`stepName`) and its failure (`failure`). */
function markerSteps(
  system: CiSystem,
  lines: readonly string[],
  stepName: (line: string) => string | undefined,
  failure: RegExp,
): LogStructure {
  let start = 0;
  let name: string | undefined;
  const steps: FailingStep[] = [];
  lines.forEach((line, index) => {
    const opened = stepName(line);
    if (opened !== undefined) {
      start = index;
      name = opened;
    }
    if (failure.test(line) && steps.length === 0) {
      steps.push({ start, end: index, ...(name !== undefined ? { name } : {}) });
    }
  });
  if (steps.length === 0) return { system, failingSteps: [lastStep(lines, lines.length - 1, 0)] };
  return { system, failingSteps: steps };
}

/** Whether the 0-based line `index` lies in one of the failing steps. */
export function inFailingStep(structure: LogStructure, index: number): boolean {
  return structure.failingSteps.some((step) => index >= step.start && index <= step.end);
}
