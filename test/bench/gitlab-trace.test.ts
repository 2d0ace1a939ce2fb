import { adaptGitLabTrace, gitLabSectionPhase } from '../../bench/gitlab-trace';

const section = (kind: 'start' | 'end', name: string): string =>
  `section_${kind}:1700000000:${name}\r\x1b[0K`;

describe('adaptGitLabTrace', () => {
  it('maps the last section the runner started to its CodeBuild phase, skipping clean-up', () => {
    const trace = [
      `${section('start', 'prepare_executor')}Preparing the "docker" executor`,
      `${section('end', 'prepare_executor')}${section('start', 'get_sources')}Getting source from Git repository`,
      `${section('end', 'get_sources')}${section('start', 'step_script')}Executing "step_script" stage`,
      'error[E0425]: cannot find value `x` in this scope',
      `${section('end', 'step_script')}${section('start', 'after_script')}Running after_script`,
      `${section('end', 'after_script')}${section('start', 'cleanup_file_variables')}Cleaning up`,
      `${section('end', 'cleanup_file_variables')}\x1b[31;1mERROR: Job failed: exit code 1`,
    ].join('\n');
    const job = adaptGitLabTrace(trace);
    expect(job).toMatchObject({ status: 'FAILED', failedPhase: 'BUILD', failedSection: 'step_script' });
    expect(job.lines).toContain('error[E0425]: cannot find value `x` in this scope');
  });

  it('reads a job that died while fetching sources as a DOWNLOAD_SOURCE failure', () => {
    const trace = [
      `${section('start', 'get_sources')}Getting source from Git repository`,
      `${section('end', 'get_sources')}${section('start', 'cleanup_file_variables')}Cleaning up`,
      `${section('end', 'cleanup_file_variables')}ERROR: Job failed (system failure): Cannot connect to the Docker daemon`,
    ].join('\n');
    expect(adaptGitLabTrace(trace).failedPhase).toBe('DOWNLOAD_SOURCE');
  });

  it('reads a trace without sections as a PROVISIONING failure and a time-out as TIMED_OUT', () => {
    expect(adaptGitLabTrace('ERROR: Job failed: failed to pull image "x"').failedPhase).toBe('PROVISIONING');
    expect(
      adaptGitLabTrace(
        `${section('start', 'step_script')}\nERROR: Job failed: execution took longer than 2h0m0s seconds`,
      ),
    ).toMatchObject({
      status: 'TIMED_OUT',
      failedPhase: 'BUILD',
    });
  });

  it('treats unknown sections as the job script', () => {
    expect(gitLabSectionPhase('upload_artifacts_on_success')).toBe('UPLOAD_ARTIFACTS');
    expect(gitLabSectionPhase('my_custom_step')).toBe('BUILD');
  });
});
