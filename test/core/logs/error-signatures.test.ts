import { matchSignature } from '../../../core/logs/error-signatures';

describe('matchSignature across ecosystems', () => {
  test.each([
    ['Program.cs(12,5): error CS1002: ; expected', 'compiler-error'],
    ['src/Main.hs:14:9: error:', 'compiler-error'],
    ['PHP Fatal error:  Uncaught Error: Call to undefined function foo()', 'panic'],
    ["thread 'main' panicked at 'index out of bounds', src/lib.rs:3:5", 'panic'],
    ['     Failure/Error: expect(user).to be_valid', 'test-failure'],
    ['  1) Failure:', 'test-failure'],
    ['  3 failing', 'test-failure'],
    ['    Error: expected 1 to equal 2', 'panic'],
    [
      '/src/Tests.swift:12: error: -[AppTests.MathTests testAdd] : XCTAssertEqual failed: ("1") is not equal to ("2")',
      'xctest-failure',
    ],
    ['Chrome 75.0.3770 (Mac OS X 10.13.6) ERROR', 'test-failure'],
    ['  Disconnected, because no message in 30000 ms.', 'test-failure'],
    ['[error] (Test / test) sbt.TestsFailedException: Tests unsuccessful', 'ci-step-failure'],
    ['The command "bundle exec rake" exited with 1.', 'build-tool-failure'],
    ["! LaTeX Error: File `foo.sty' not found.", 'compiler-error'],
  ])('%s -> %s', (line, id) => {
    expect(matchSignature(line)?.id).toBe(id);
  });

  test.each([
    ['Tests: 12 passed, 0 failed'],
    ['see https://ci.example.com/jobs/123 failed'],
    ['Running testAccessDeniedOnTemporaryFile ... ok'],
    ['  error: [Function],'],
  ])('raises no cause-weight alarm on %s', (line) => {
    expect(matchSignature(line)?.weight ?? 0).toBeLessThan(3);
  });

  test.each([
    ['fatal: Not a git repository (or any of the parent directories): .git'],
    ['ls: cannot access /opt/cache: No such file or directory'],
    ['npm ERR! A complete log of this run can be found in:'],
  ])('reads routine setup output as a hint: %s', (line) => {
    expect(matchSignature(line)?.weight).toBe(1);
  });
});
