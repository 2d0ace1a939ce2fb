import { analyseFailureCause } from '../../../core/logs/failure-cause';

describe('analyseFailureCause', () => {
  it('sets aside a network warning the tool retried when compiler errors failed the step', () => {
    const cause = analyseFailureCause([
      '$ cargo build',
      'warning: spurious network error (2 tries remaining): Connection reset by peer',
      '    Updating crates.io index',
      'error[E0425]: cannot find value `x` in this scope',
      ' --> src/main.rs:2:5',
      'error[E0308]: mismatched types',
      'error: could not compile `app` due to 2 previous errors',
    ]);
    expect(cause.verdict).toBe('code');
    expect(cause.environmentFaults).toEqual([]);
    expect(cause.setAside.map((aside) => aside.reason)).toEqual(['retried']);
    expect(cause.codeErrors[0]).toMatchObject({ lineNumber: 4, signatureId: 'rust-error' });
  });

  it('treats a network error a failing test printed as test output, not the cause', () => {
    const cause = analyseFailureCause([
      '$ npm test',
      '  console.error Error: getaddrinfo EAI_AGAIN api.example.com',
      '  ● users › fetches the user',
      'Tests:       1 failed, 12 passed, 13 total',
    ]);
    expect(cause.verdict).toBe('code');
    expect(cause.setAside[0]).toMatchObject({ reason: 'before-code-error' });
  });

  it('reads a compiler killed for memory as the cause even after its summary error', () => {
    const cause = analyseFailureCause([
      '$ cargo build --release',
      'error: could not compile `app`',
      "  process didn't exit successfully: `rustc --crate-name app` (signal: 9, SIGKILL: kill)",
    ]);
    expect(cause.verdict).toBe('environment');
    expect(cause.environmentFaults.map((fault) => fault.kind)).toEqual(['out-of-memory']);
  });

  it('lets the runner report of a system failure decide, and ignores faults of steps that succeeded', () => {
    const log = [
      'section_start:1:get_sources\r\u001b[0KGetting source from Git repository',
      'warning: unable to access: Could not resolve host: gitlab.com (retrying)',
      'section_end:2:get_sources\r\u001b[0Ksection_start:2:step_script\r\u001b[0KExecuting',
      '$ make test',
      'section_end:3:step_script\r\u001b[0Ksection_start:3:cleanup_file_variables\r\u001b[0KCleaning up',
      'ERROR: Job failed (system failure): Cannot connect to the Docker daemon at unix:///var/run/docker.sock',
    ];
    const cause = analyseFailureCause(log);
    expect(cause).toMatchObject({ verdict: 'environment', system: 'gitlab', failedPhase: 'BUILD' });
    expect(cause.environmentFaults.map((fault) => fault.kind)).toEqual(['ci-runner']);
    expect(cause.setAside[0]).toMatchObject({ reason: 'outside-failing-step' });
  });

  it('notices a failing step that ends on something that does not exist', () => {
    const cause = analyseFailureCause([
      'section_start:1:get_sources\r\u001b[0KGetting source from Git repository',
      '[abc] Object does not exist on the server: [404] Object does not exist on the server',
      "error: failed to fetch some objects from 'https://gitlab.com/x.git/info/lfs'",
    ]);
    expect(cause).toMatchObject({ verdict: 'unknown', failedPhase: 'DOWNLOAD_SOURCE', notFound: true });
  });
});
