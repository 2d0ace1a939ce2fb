/**
 * The benchmark's adapter from a GitLab CI job trace to what a CodeBuild build record would hold about
 * the same failure: the failed phase (from GitLab's `section_start:<time>:<name>` markers), the status,
 * and the log lines. Only the benchmark uses it: Pipemend itself reads CodeBuild.
 *
 * GitLab runs a job as named sections; each maps to the CodeBuild phase that does the same work. The
 * failed section is the last one the runner started before the job ended, not counting the sections it
 * runs whatever happened (`after_script`, cache/artifact uploads on failure, clean-up). A trace without
 * any section failed before the runner could prepare anything: PROVISIONING.
 */

import { GITLAB_ALWAYS_RUN as ALWAYS_RUN, GITLAB_PHASES as SECTION_PHASES } from '../core/logs/log-structure';

export interface AdaptedGitLabJob {
  readonly status: 'FAILED' | 'TIMED_OUT';
  /** The CodeBuild phase of the failed GitLab section. */
  readonly failedPhase: string;
  /** The GitLab section it came from (`none` when the trace has no section). */
  readonly failedSection: string;
  /** The trace's lines (split like CI log viewers do), unchanged. */
  readonly lines: string[];
}

export function gitLabSectionPhase(section: string): string {
  return SECTION_PHASES[section] ?? 'BUILD';
}

export function adaptGitLabTrace(trace: string): AdaptedGitLabJob {
  const lines = trace.split(/\r\n|\r|\n/);
  const started = [...trace.matchAll(/section_start:\d+:([A-Za-z0-9_.-]+)/g)].map((match) => match[1]!);
  const failedSection = [...started].reverse().find((name) => !ALWAYS_RUN.has(name)) ?? 'none';
  const failedPhase = failedSection === 'none' ? 'PROVISIONING' : gitLabSectionPhase(failedSection);
  const timedOut = /ERROR: Job failed: execution took longer than/.test(trace);
  return { status: timedOut ? 'TIMED_OUT' : 'FAILED', failedPhase, failedSection, lines };
}
