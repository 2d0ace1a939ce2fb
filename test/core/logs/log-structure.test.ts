import { analyseLogStructure, detectCiSystem, inFailingStep } from '../../../core/logs/log-structure';

describe('analyseLogStructure', () => {
  it('finds the failing Travis command and the epilogue after it', () => {
    const lines = [
      'travis_fold:start:install',
      '$ npm ci',
      'npm ERR! network timeout (retried, then succeeded)',
      'travis_fold:end:install',
      '$ npm test',
      '  1 failing',
      '  1) adds numbers: AssertionError: expected 3 to equal 4',
      'The command "npm test" exited with 1.',
      'travis_fold:start:cache.2',
      'store build cache',
      'Done. Your build exited with 1.',
    ];
    const structure = analyseLogStructure(lines);
    expect(structure.system).toBe('travis');
    expect(structure.failingSteps).toEqual([{ start: 4, end: 7, name: 'npm test' }]);
    expect(structure.epilogueStart).toBe(8);
    expect(inFailingStep(structure, 6)).toBe(true);
    expect(inFailingStep(structure, 2)).toBe(false);
  });

  it('treats a Travis log without a result line as cut short in its last command', () => {
    const structure = analyseLogStructure(['travis_fold:start:git', '$ make test', 'running...']);
    expect(structure.failingSteps).toEqual([{ start: 1, end: 2 }]);
  });

  it('maps the failed GitLab section to its CodeBuild phase', () => {
    const lines = [
      'section_start:1:get_sources\r\u001b[0KGetting source',
      'section_end:1:get_sources\r\u001b[0Ksection_start:2:step_script\r\u001b[0KExecuting',
      '$ cargo build',
      'error[E0425]: cannot find value `x`',
      'section_end:3:step_script\r\u001b[0Ksection_start:3:cleanup_file_variables\r\u001b[0KCleaning up',
      'ERROR: Job failed: exit code 1',
    ];
    const structure = analyseLogStructure(lines);
    expect(structure.system).toBe('gitlab');
    expect(structure.failingSteps[0]).toMatchObject({
      start: 2,
      end: 3,
      name: 'step_script',
      phase: 'BUILD',
    });
    expect(structure.epilogueStart).toBe(4);
  });

  it('reads GitHub Actions groups, CodeBuild phases and Jenkins results', () => {
    expect(
      analyseLogStructure(['##[group]Run npm test', 'x', '##[error]Process completed with exit code 1.'])
        .failingSteps,
    ).toEqual([{ start: 0, end: 2, name: 'Run npm test' }]);
    expect(
      analyseLogStructure([
        'Entering phase BUILD',
        'Running command npm test',
        'boom',
        'Command did not exit successfully npm test exit status 1',
        'Phase complete: BUILD State: FAILED',
      ]).failingSteps,
    ).toEqual([{ start: 1, end: 3, name: 'npm test', phase: 'BUILD' }]);
    expect(detectCiSystem(['[Pipeline] stage', '+ mvn test', 'Finished: FAILURE'])).toBe('jenkins');
    expect(detectCiSystem(['plain output'])).toBe('unknown');
  });
});
