import { findEnvironmentFaults, summarizeEnvironmentFaults } from '../../../core/logs/environment-faults';

describe('findEnvironmentFaults', () => {
  test.each([
    ['npm ERR! code E429', 'registry-rate-limit'],
    ['npm ERR! 429 Too Many Requests - GET https://registry.npmjs.org/left-pad', 'registry-rate-limit'],
    [
      'Could not transfer artifact x from/to central: status code: 429, reason phrase: Too Many Requests',
      'registry-rate-limit',
    ],
    ['toomanyrequests: You have reached your pull rate limit.', 'registry-rate-limit'],
    [
      'An error occurred (ThrottlingException) when calling the PutObject operation: Rate exceeded',
      'throttling',
    ],
    ['curl: (6) Could not resolve host: github.com', 'dns-failure'],
    [
      'npm ERR! request to https://registry.npmjs.org/x failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org',
      'dns-failure',
    ],
    ['Error: connect ETIMEDOUT 10.0.0.1:443', 'network-timeout'],
    ['fatal: unable to access: Connection reset by peer', 'network-timeout'],
    ['FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory', 'out-of-memory'],
    ['Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', 'out-of-memory'],
    ['write /tmp/x: No space left on device', 'disk-full'],
  ])('recognises "%s" as %s', (line, kind) => {
    expect(findEnvironmentFaults([line])).toEqual([{ kind, lineNumber: 1, line }]);
  });

  test.each([
    ['expect(received).toBe(expected) // Object.is equality'],
    ["src/app.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'."],
    ['[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0'],
    ['npm ERR! code ELIFECYCLE'],
    ['Running com.google.inject.errors.ScopeNotFoundErrorTest'],
    ['Caused by: java.io.FileNotFoundException: /builds/workspace/target/maven-status'],
    [
      'Progress (1): 4.1/11 kB Downloaded from central: https://repo.maven.apache.org/x.pom (429 B at 12 kB/s)',
    ],
  ])('does not take the code failure "%s" for an environment fault', (line) => {
    expect(findEnvironmentFaults([line])).toEqual([]);
  });

  test('reports 1-based line numbers and caps very long lines', () => {
    const long = `ETIMEDOUT ${'x'.repeat(1000)}`;
    const [match] = findEnvironmentFaults(['ok', '', long]);
    expect(match?.lineNumber).toBe(3);
    expect(match?.line).toHaveLength(300);
  });

  test('summarises the kinds most frequent first', () => {
    const matches = findEnvironmentFaults(['ENOSPC', 'ETIMEDOUT', 'ECONNRESET']);
    expect(summarizeEnvironmentFaults(matches)).toEqual(['network-timeout', 'disk-full']);
  });
});

describe('findEnvironmentFaults: runner, daemon, network in words, OOM kills', () => {
  test.each([
    ['ERROR: Job failed (system failure): timed out waiting for pod to start', 'ci-runner'],
    ['ERROR: Job failed: failed to pull image "registry.example.com/ci:1"', 'ci-runner'],
    [
      'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
      'container-daemon',
    ],
    ['docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock.', 'container-daemon'],
    ['curl: (7) Failed to connect to example.com port 443: Connection refused', 'network-error'],
    ['dial tcp [2600::1]:443: connect: network is unreachable', 'network-error'],
    ['lookup proxy.golang.org on 127.0.0.11:53: server misbehaving', 'network-error'],
    ['net/http: request canceled (Client.Timeout exceeded while awaiting headers)', 'network-timeout'],
    ['dial tcp 10.0.0.1:443: connect: cannot assign requested address', 'network-error'],
    [
      'fatal: unable to access: SSL certificate problem: unable to get local issuer certificate',
      'network-error',
    ],
    [
      "process didn't exit successfully: `rustc --crate-name app` (signal: 9, SIGKILL: kill)",
      'out-of-memory',
    ],
    ['ERROR: Job failed: exit code 137', 'out-of-memory'],
    ['E: Failed to fetch http://deb.debian.org/x.deb  Hash Sum mismatch', 'registry-outage'],
    ['error: the compiler unexpectedly panicked. this is a bug.', 'toolchain-crash'],
  ])('recognises "%s" as %s', (line, kind) => {
    expect(findEnvironmentFaults([line])[0]?.kind).toBe(kind);
  });
});
