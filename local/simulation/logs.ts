/**
 * Plausible CodeBuild log text for a simulated build, in CloudWatch Logs' `[Container]` format, with the
 * failure each incident really produces (a DNS error from the package registry, a Docker Hub rate limit, a
 * connection timeout, failing tests, an out-of-memory kill, a canary alarm), so that the excerpt selector
 * and the suggester work on realistic input. Generated on demand from the build's own seed.
 */
import { INSTALL_COMMANDS, SimulatedBuild, TEST_COMMANDS } from './build';
import { SeededRandom, seedFrom } from './random';

export function renderBuildLog(build: SimulatedBuild): string {
  const rng = new SeededRandom(seedFrom(build.buildId));
  const lines: string[] = [];
  const stamp = (date: Date) => {
    const iso = date.toISOString();
    return `[Container] ${iso.slice(0, 10).replace(/-/g, '/')} ${iso.slice(11, 23)}${String(rng.int(0, 999)).padStart(3, '0')}`;
  };
  const container = (date: Date, text: string) => lines.push(`${stamp(date)} ${text}`);
  const src = `/codebuild/output/src${rng.int(100000000, 999999999)}/src`;
  const first = build.phases[0]!.start;
  container(first, 'Running on CodeBuild On-demand');
  container(first, 'Waiting for agent ping');
  container(first, 'Waiting for DOWNLOAD_SOURCE');
  for (const phase of build.phases) {
    if (phase.type === 'SUBMITTED' || phase.type === 'QUEUED' || phase.type === 'PROVISIONING') continue;
    if (phase.type === 'COMPLETED') break;
    if (phase.type === 'DOWNLOAD_SOURCE') {
      container(phase.start, 'Phase is DOWNLOAD_SOURCE');
      container(phase.start, `CODEBUILD_SRC_DIR=${src}`);
      container(phase.start, `YAML location is ${src}/buildspec.yml`);
      container(phase.start, 'Processing environment variables');
      container(phase.start, `Moving to directory ${src}`);
    } else if (phase.type !== 'FINALIZING') {
      container(phase.start, `Entering phase ${phase.type}`);
    }
    const body = phaseBody(build, phase.type, phase.status !== 'SUCCEEDED', rng);
    for (const line of body)
      lines.push(line.startsWith('!') ? `${stamp(phase.end ?? phase.start)} ${line.slice(1)}` : line);
    if (phase.type === 'FINALIZING') continue;
    container(
      phase.end ?? phase.start,
      `Phase complete: ${phase.type} State: ${phase.status ?? 'SUCCEEDED'}`,
    );
    container(
      phase.end ?? phase.start,
      `Phase context status code: ${phase.context?.statusCode ?? ''} Message: ${phase.context?.message ?? ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Lines of one phase; a leading `!` marks a `[Container]` line that gets a timestamp. */
function phaseBody(build: SimulatedBuild, phase: string, failed: boolean, rng: SeededRandom): string[] {
  const { toolchain, truth } = build;
  const deploy = build.stageName === 'Deploy';
  switch (phase) {
    case 'INSTALL': {
      const command = deploy ? 'npm ci --omit=dev' : INSTALL_COMMANDS[toolchain];
      const out = [`!Running command ${command}`];
      if (failed && truth.variant === 'dns') return [...out, ...dnsFailure(build)];
      if (failed && truth.variant === 'network_timeout') return [...out, ...networkTimeout(build)];
      return [...out, ...installSuccess(build, rng)];
    }
    case 'PRE_BUILD': {
      const out = [
        '!Running command aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com',
        'Login Succeeded',
        '!Running command docker pull public.ecr.aws/docker/library/node:20-alpine',
      ];
      if (failed && truth.variant === 'rate_limit') {
        return [
          ...out.slice(0, 2),
          '!Running command docker pull docker.io/library/node:20-alpine',
          'Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit',
          '!Command did not exit successfully docker pull docker.io/library/node:20-alpine exit status 1',
        ];
      }
      return [
        ...out,
        '20-alpine: Pulling from docker/library/node',
        'Status: Image is up to date for node:20-alpine',
      ];
    }
    case 'BUILD':
      return deploy ? deployBody(build, rng) : testBody(build, failed, rng);
    case 'POST_BUILD':
      return deploy
        ? canaryBody(build, failed, rng)
        : [
            '!Running command ./scripts/package.sh',
            `Packaged artifact ${build.projectName}-${build.sourceVersion.slice(0, 7)}.zip`,
          ];
    case 'UPLOAD_ARTIFACTS':
      return ['!Expanding base directory path: dist', '!Assembling file list', '!Found 1 file(s)'];
    default:
      return [];
  }
}

function dnsFailure(build: SimulatedBuild): string[] {
  switch (build.toolchain) {
    case 'node':
      return [
        'npm error code EAI_AGAIN',
        'npm error syscall getaddrinfo',
        'npm error errno EAI_AGAIN',
        'npm error request to https://registry.npmjs.org/@aws-sdk%2fclient-s3 failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org',
        'npm error A complete log of this run can be found in: /root/.npm/_logs/debug-0.log',
        `!Command did not exit successfully ${INSTALL_COMMANDS.node} exit status 1`,
      ];
    case 'java':
      return [
        '[ERROR] Failed to execute goal on project payments-api: Could not resolve dependencies for project com.example:payments-api:jar:1.4.0-SNAPSHOT:',
        '[ERROR] Failed to collect dependencies at software.amazon.awssdk:dynamodb:jar:2.25.60: Failed to read artifact descriptor: Could not transfer artifact software.amazon.awssdk:dynamodb:pom:2.25.60 from/to central (https://repo.maven.apache.org/maven2): repo.maven.apache.org: Temporary failure in name resolution',
        `!Command did not exit successfully ${INSTALL_COMMANDS.java} exit status 1`,
      ];
    case 'python':
      return [
        "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f3a1c2b>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/elasticsearch/",
        'ERROR: Could not find a version that satisfies the requirement elasticsearch==8.13.0 (from versions: none)',
        'ERROR: No matching distribution found for elasticsearch==8.13.0',
        `!Command did not exit successfully ${INSTALL_COMMANDS.python} exit status 1`,
      ];
  }
}

function networkTimeout(build: SimulatedBuild): string[] {
  switch (build.toolchain) {
    case 'node':
      return [
        'npm error code ETIMEDOUT',
        'npm error errno ETIMEDOUT',
        'npm error network request to https://registry.npmjs.org/typescript/-/typescript-5.9.3.tgz failed, reason: connect ETIMEDOUT 104.16.25.35:443',
        'npm error network This is a problem related to network connectivity.',
        `!Command did not exit successfully ${INSTALL_COMMANDS.node} exit status 1`,
      ];
    case 'java':
      return [
        '[ERROR] Failed to execute goal on project payments-api: Could not resolve dependencies for project com.example:payments-api:jar:1.4.0-SNAPSHOT: Could not transfer artifact io.netty:netty-handler:jar:4.1.108.Final from/to central (https://repo.maven.apache.org/maven2): Connect to repo.maven.apache.org:443 [repo.maven.apache.org/151.101.40.215] failed: Connect timed out',
        `!Command did not exit successfully ${INSTALL_COMMANDS.java} exit status 1`,
      ];
    case 'python':
      return [
        "pip._vendor.urllib3.exceptions.ReadTimeoutError: HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read timed out.",
        'ERROR: Exception: socket.timeout: The read operation timed out',
        `!Command did not exit successfully ${INSTALL_COMMANDS.python} exit status 1`,
      ];
  }
}

function installSuccess(build: SimulatedBuild, rng: SeededRandom): string[] {
  switch (build.toolchain) {
    case 'node':
      return [
        `added ${rng.int(1200, 1500)} packages, and audited ${rng.int(1500, 1600)} packages in ${rng.int(30, 60)}s`,
        'found 0 vulnerabilities',
      ];
    case 'java':
      return ['[INFO] BUILD SUCCESS', `[INFO] Total time:  ${rng.int(40, 70)}.${rng.int(100, 999)} s`];
    case 'python':
      return [`Successfully installed ${rng.int(60, 90)} packages`];
  }
}

function testBody(build: SimulatedBuild, failed: boolean, rng: SeededRandom): string[] {
  const command = TEST_COMMANDS[build.toolchain];
  const out = [`!Running command ${command}`];
  const tests = build.tests;
  if (failed && build.truth.kind === 'resource_exhaustion') {
    return [
      ...out,
      ...(build.toolchain === 'node'
        ? [
            '<--- Last few GCs --->',
            '[412:0x5c1e2d0]   412345 ms: Mark-Compact 3987.2 (4135.6) -> 3971.9 (4137.1) MB, 2187.41 / 0.00 ms  (average mu = 0.112, current mu = 0.021) allocation failure; scavenge might not succeed',
            'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
          ]
        : build.toolchain === 'java'
          ? [
              '[ERROR] java.lang.OutOfMemoryError: Java heap space',
              '[ERROR] The forked VM terminated without properly saying goodbye. VM crash or System.exit called?',
            ]
          : ['MemoryError', 'Killed']),
      `!Command did not exit successfully ${command} exit status 137`,
    ];
  }
  if (!tests) return out;
  const passed = tests.total - tests.failed - tests.error - tests.skipped;
  const failures = tests.failing.slice(0, 6).flatMap((name) => failureLines(build, name, rng));
  const summary =
    build.toolchain === 'java'
      ? [
          `[INFO] Tests run: ${tests.total}, Failures: ${tests.failed}, Errors: ${tests.error}, Skipped: ${tests.skipped}`,
        ]
      : build.toolchain === 'python'
        ? [
            `${tests.failed > 0 ? `${tests.failed} failed, ` : ''}${passed} passed, ${tests.skipped} skipped in ${tests.durationSeconds}.${rng.int(10, 99)}s`,
          ]
        : [
            `Tests:       ${tests.failed > 0 ? `${tests.failed} failed, ` : ''}${tests.skipped} skipped, ${passed} passed, ${tests.total} total`,
            `Time:        ${tests.durationSeconds}.${rng.int(100, 999)} s`,
          ];
  const tail = failed ? [`!Command did not exit successfully ${command} exit status 1`] : [];
  return [...out, ...failures, ...summary, ...tail];
}

function failureLines(build: SimulatedBuild, name: string, rng: SeededRandom): string[] {
  const expected = rng.int(10, 99);
  switch (build.toolchain) {
    case 'node':
      return [
        ` FAIL  src/${name.split(' › ')[0]}.test.ts`,
        `  ● ${name}`,
        '',
        '    expect(received).toBe(expected) // Object.is equality',
        '',
        `    Expected: ${expected}`,
        `    Received: ${expected - rng.int(1, 9)}`,
        '',
      ];
    case 'java':
      return [
        `[ERROR] ${name}  Time elapsed: 0.${rng.int(10, 99)} s  <<< FAILURE!`,
        `org.opentest4j.AssertionFailedError: expected: <${expected}.00> but was: <${expected - 1}.99>`,
      ];
    case 'python':
      return [`FAILED tests/${name} - AssertionError: assert ${expected - 1} == ${expected}`];
  }
}

function deployBody(build: SimulatedBuild, rng: SeededRandom): string[] {
  const version = build.sourceVersion.slice(0, 7);
  return [
    `!Running command ./scripts/deploy.sh ${version}`,
    `Updating ECS service ${build.pipelineName}-svc to task definition ${build.pipelineName}:${rng.int(100, 400)}`,
    'Waiting for service deployment to reach steady state...',
    `Service ${build.pipelineName}-svc reached a steady state.`,
  ];
}

function canaryBody(build: SimulatedBuild, failed: boolean, rng: SeededRandom): string[] {
  const out = [
    '!Running command ./scripts/canary-check.sh',
    `Baking canary for ${build.executionType === 'ROLLBACK' ? 'rollback' : 'release'} ${build.sourceVersion.slice(0, 7)}`,
  ];
  if (!failed)
    return [
      ...out,
      `Canary OK: HTTP 5xx rate ${rng.uniform(0.05, 0.4).toFixed(2)}% (threshold 1.00%), p99 latency ${rng.int(180, 260)} ms`,
    ];
  const rate = rng.uniform(14, 31).toFixed(1);
  return [
    ...out,
    `ALARM ${build.pipelineName}-5xx-rate entered state ALARM: Threshold Crossed: 3 out of the last 3 datapoints [${rate}, ${(Number(rate) - 2.1).toFixed(1)}, ${(Number(rate) - 4.3).toFixed(1)}] were greater than the threshold (1.0)`,
    `Canary FAILED: HTTP 5xx rate ${rate}% (threshold 1.00%) on ${build.tests?.failed ?? 0} of ${build.tests?.total ?? 0} smoke checks`,
    ...(build.tests?.failing.slice(0, 4).map((name) => `  ✗ ${name}: 503 Service Unavailable`) ?? []),
    '!Command did not exit successfully ./scripts/canary-check.sh exit status 2',
  ];
}
