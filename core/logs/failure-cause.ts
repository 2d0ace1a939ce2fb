/**
 * What failed a build, from its log: the failing step (log-structure.ts), the environment faults that
 * are that step's own errors, and the code errors (compiler errors, failed tests) in it. An environment
 * fault is the cause only when it is the failing step's own error: a fault in a step that succeeded, a
 * warning the tool retried, or a network error a failing test printed is not.
 *
 * Cause before consequence: the runner's own report that it failed the job (a system failure, a lost
 * Docker daemon) decides; otherwise code errors in the failing step decide unless an environment fault
 * comes after the last of them (a disk that filled up or a compiler killed for memory while building).
 */
import { EnvironmentFaultKind, EnvironmentFaultMatch, findEnvironmentFaults } from './environment-faults';
import { matchSignature } from './error-signatures';
import { cleanLine } from './log-excerpt';
import { analyseLogStructure, CiSystem } from './log-structure';

export type FailureCauseVerdict = 'environment' | 'code' | 'unknown';

export interface CodeError {
  /** 1-based line number within the lines given. */
  readonly lineNumber: number;
  readonly line: string;
  readonly signatureId: string;
}

export type SetAsideReason = 'outside-failing-step' | 'retried' | 'before-code-error';

export interface FailureCause {
  readonly verdict: FailureCauseVerdict;
  readonly system: CiSystem;
  /** The CodeBuild phase of the failing step, when the log's markers say (CodeBuild, GitLab). */
  readonly failedPhase?: string;
  /** 1-based first and last line of the failing step (the first one when several failed). */
  readonly failingStep?: { readonly start: number; readonly end: number; readonly name?: string };
  /** Environment faults that are the failing step's own errors (or the runner's report). */
  readonly environmentFaults: EnvironmentFaultMatch[];
  /** Environment faults found elsewhere, with the reason they do not explain the failure. */
  readonly setAside: { readonly match: EnvironmentFaultMatch; readonly reason: SetAsideReason }[];
  /** Compiler errors and failed tests in the failing step, in log order (at most 20). */
  readonly codeErrors: CodeError[];
  /** Whether the failing step's last words are a deterministic "not found" (HTTP 404, missing object). */
  readonly notFound: boolean;
}

/** Faults the CI system reports about itself: they fail the job whatever the step printed. */
const RUNNER_KINDS = new Set<EnvironmentFaultKind>(['ci-runner', 'container-daemon']);

/** A message a tool printed while retrying (and possibly recovering): not by itself a failure. */
const RETRIED =
  /\bretry|retrying|tries remaining|will retry|attempt \d+ (?:of|\/)|backing off|^\s*warn(?:ing)?\b|^\s*\[warn|^WARNING: /i;

const NOT_FOUND =
  /\b404\b|Object does not exist|does not exist on the server|manifest unknown|not found: manifest|repository not found/i;

/** Lines at the end of the log in which the CI system reports the job's result. */
const RESULT_TAIL = 30;
const MAX_CODE_ERRORS = 20;

/** Why a log's build failed, from its lines (raw or cleaned). */
export function analyseFailureCause(logLines: readonly string[]): FailureCause {
  const lines = logLines.map(cleanLine);
  const structure = analyseLogStructure(lines);
  const faults = findEnvironmentFaults(lines);
  const steps = structure.failingSteps;
  const first = steps[0];
  const inStep = (index: number): boolean => steps.some((step) => index >= step.start && index <= step.end);
  const inResultTail = (index: number): boolean =>
    index >= lines.length - RESULT_TAIL &&
    (structure.epilogueStart === undefined || index >= structure.epilogueStart);

  const codeErrors: CodeError[] = [];
  lines.forEach((line, index) => {
    if (!inStep(index) || codeErrors.length >= MAX_CODE_ERRORS) return;
    const signature = matchSignature(line);
    if (!signature || signature.weight !== 3) return;
    if (signature.category !== 'compilation' && signature.category !== 'test-failure') return;
    // A compiler or test line that itself reports a fault of the environment is that fault.
    if (faults.some((fault) => fault.lineNumber === index + 1)) return;
    codeErrors.push({ lineNumber: index + 1, line: line.trim().slice(0, 300), signatureId: signature.id });
  });
  const lastCodeError = codeErrors.length > 0 ? codeErrors[codeErrors.length - 1]!.lineNumber : 0;

  const own: EnvironmentFaultMatch[] = [];
  const setAside: FailureCause['setAside'] = [];
  let runnerFailed = false;
  for (const fault of faults) {
    const index = fault.lineNumber - 1;
    if (RUNNER_KINDS.has(fault.kind) && (inStep(index) || inResultTail(index)) && !RETRIED.test(fault.line)) {
      runnerFailed = true;
      own.push(fault);
    } else if (!inStep(index)) {
      setAside.push({ match: fault, reason: 'outside-failing-step' });
    } else if (codeErrors.length > 0 && RETRIED.test(fault.line)) {
      setAside.push({ match: fault, reason: 'retried' });
    } else if (codeErrors.length > 0 && fault.lineNumber < lastCodeError) {
      setAside.push({ match: fault, reason: 'before-code-error' });
    } else {
      own.push(fault);
    }
  }

  // Faults that remain are the step's own errors: the runner's report, or the last word after any code
  // error (a disk that filled up, a compiler killed for memory).
  const verdict: FailureCauseVerdict =
    runnerFailed || own.length > 0 ? 'environment' : codeErrors.length > 0 ? 'code' : 'unknown';
  const stepLines = first ? lines.slice(Math.max(first.start, first.end - 10), first.end + 1) : [];
  return {
    verdict,
    system: structure.system,
    ...(first?.phase !== undefined ? { failedPhase: first.phase } : {}),
    ...(first
      ? {
          failingStep: {
            start: first.start + 1,
            end: first.end + 1,
            ...(first.name !== undefined ? { name: first.name } : {}),
          },
        }
      : {}),
    environmentFaults: own,
    setAside,
    codeErrors,
    notFound: own.length === 0 && stepLines.some((line) => NOT_FOUND.test(line)),
  };
}
