/**
 * One simulated CodeBuild build: its phases, test summary, utilisation and ground truth, and how a build of a
 * pipeline stage is generated from the pipeline's normal behaviour plus the condition it runs under (an
 * active incident, a flaky test, a rerun on larger compute).
 */
import { SeededRandom } from './random';
import { EnvFaultVariant, IncidentKind, PipelineSpec } from './scenario';
import { BuildStatus, PhaseType } from '../../core/collection/build-record';

export type StageName = 'Build' | 'Deploy';

/** What really happened to a build; the replay never shows this to Pipemend, only to the report. */
export type BuildTruthKind = 'normal' | 'flaky' | IncidentKind;

export interface BuildTruth {
  readonly kind: BuildTruthKind;
  readonly incidentId?: string;
  readonly variant?: EnvFaultVariant;
  /** Set on builds that Pipemend's remediation started. */
  readonly remediation?: 'rerun' | 'retry' | 'rollback';
  /** The build a remediation build reran or rolled back from. */
  readonly remediationOf?: string;
}

export interface SimulatedPhase {
  readonly type: PhaseType | 'SUBMITTED' | 'FINALIZING' | 'COMPLETED';
  readonly status?: 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT';
  readonly start: Date;
  readonly end?: Date;
  readonly seconds?: number;
  readonly context?: { readonly statusCode: string; readonly message: string };
}

export interface SimulatedTests {
  readonly total: number;
  readonly failed: number;
  readonly error: number;
  readonly skipped: number;
  /** Names of the failing test cases (they appear in the log). */
  readonly failing: readonly string[];
  readonly durationSeconds: number;
}

export interface SimulatedUtilization {
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  readonly cpuUnits: number;
  readonly memoryMb: number;
}

export interface SimulatedBuild {
  readonly buildId: string;
  readonly buildArn: string;
  readonly buildNumber: number;
  readonly projectName: string;
  /** The pipeline (or, for a stand-alone project, the service) the build belongs to. */
  readonly pipelineName: string;
  /** False for a stand-alone project's builds: no CodePipeline action reports them. */
  readonly viaPipeline: boolean;
  readonly stageName: StageName;
  readonly executionId: string;
  readonly executionType: 'STANDARD' | 'ROLLBACK';
  readonly sourceVersion: string;
  readonly initiator: string;
  /** Build environment variables (Pipemend's reruns carry its marker variable). */
  readonly environmentVariables: readonly { readonly name: string; readonly value: string }[];
  readonly computeType: string;
  readonly image: string;
  readonly toolchain: PipelineSpec['toolchain'];
  readonly startTime: Date;
  readonly endTime: Date;
  readonly status: BuildStatus;
  readonly failedPhase?: PhaseType;
  readonly phases: readonly SimulatedPhase[];
  readonly tests: SimulatedTests | null;
  readonly utilization: SimulatedUtilization | null;
  readonly truth: BuildTruth;
}

export const SIMULATED_ACCOUNT = '123456789012';
export const SIMULATED_REGION = 'eu-west-1';

/** vCPUs and memory (MB) of CodeBuild's Linux compute types, and the next size up. */
export const COMPUTE_TYPES: Record<string, { vcpus: number; memoryMb: number; larger?: string }> = {
  BUILD_GENERAL1_SMALL: { vcpus: 2, memoryMb: 3072, larger: 'BUILD_GENERAL1_MEDIUM' },
  BUILD_GENERAL1_MEDIUM: { vcpus: 4, memoryMb: 7168, larger: 'BUILD_GENERAL1_LARGE' },
  BUILD_GENERAL1_LARGE: { vcpus: 8, memoryMb: 15360, larger: 'BUILD_GENERAL1_XLARGE' },
  BUILD_GENERAL1_XLARGE: { vcpus: 36, memoryMb: 71680, larger: 'BUILD_GENERAL1_2XLARGE' },
  BUILD_GENERAL1_2XLARGE: { vcpus: 72, memoryMb: 148480 },
};

export function computeSpec(computeType: string): { vcpus: number; memoryMb: number; larger?: string } {
  const spec = COMPUTE_TYPES[computeType];
  if (!spec) throw new Error(`unknown CodeBuild compute type '${computeType}'`);
  return spec;
}

/** The condition a build runs under; `normal` unless an incident, a flaky test or a remediation applies. */
export type BuildCondition =
  | { readonly kind: 'normal' }
  | { readonly kind: 'flaky' }
  | { readonly kind: 'env_fault'; readonly incidentId: string; readonly variant: EnvFaultVariant }
  | { readonly kind: 'regression'; readonly incidentId: string }
  /** `pressure` in [0, 1+]: how far memory has crept towards exhaustion; above 1 the build runs out of memory. */
  | { readonly kind: 'resource_exhaustion'; readonly incidentId: string; readonly pressure: number }
  | { readonly kind: 'bad_deploy'; readonly incidentId: string };

export interface BuildRequest {
  readonly pipeline: PipelineSpec;
  readonly stageName: StageName;
  readonly buildNumber: number;
  readonly executionId: string;
  readonly executionType?: 'STANDARD' | 'ROLLBACK';
  readonly sourceVersion: string;
  readonly initiator: string;
  readonly environmentVariables?: readonly { readonly name: string; readonly value: string }[];
  readonly computeType?: string;
  readonly start: Date;
  /** Seconds spent queued, rising with the installation's load at that hour. */
  readonly queuedSeconds: number;
  /** Days since the simulation start (the test suite and the build grow with it). */
  readonly day: number;
  readonly condition: BuildCondition;
  readonly remediation?: BuildTruth['remediation'];
  readonly remediationOf?: string;
}

const IMAGES: Record<PipelineSpec['toolchain'], string> = {
  node: 'aws/codebuild/amazonlinux-x86_64-standard:5.0',
  java: 'aws/codebuild/amazonlinux-x86_64-standard:corretto21',
  python: 'aws/codebuild/standard:7.0',
};

const INSTALL_MEDIAN_SECONDS: Record<PipelineSpec['toolchain'], number> = { node: 48, java: 64, python: 36 };

/** Generates one build; `rng` must be the build's own stream so that reruns do not shift other builds. */
export function simulateBuild(request: BuildRequest, rng: SeededRandom): SimulatedBuild {
  const { pipeline, stageName, condition } = request;
  const projectName = stageName === 'Build' ? pipeline.buildProject : pipeline.deployProject;
  const computeType =
    request.computeType ?? (stageName === 'Build' ? pipeline.computeType : 'BUILD_GENERAL1_SMALL');
  const compute = computeSpec(computeType);
  const uuid = rng.uuid();
  const buildId = `${projectName}:${uuid}`;
  const plan = stageName === 'Build' ? planBuildStage(request, compute, rng) : planDeployStage(request, rng);

  const phases: SimulatedPhase[] = [];
  let clock = request.start.getTime();
  const push = (
    type: SimulatedPhase['type'],
    seconds: number,
    status: SimulatedPhase['status'] = 'SUCCEEDED',
  ) => {
    const whole = Math.max(0, Math.round(seconds));
    const start = new Date(clock);
    clock += whole * 1000;
    const failure = status === 'SUCCEEDED' ? undefined : plan.failureContext;
    phases.push({
      type,
      status,
      start,
      end: new Date(clock),
      seconds: whole,
      ...(failure ? { context: failure } : {}),
    });
  };
  push('SUBMITTED', rng.uniform(0, 1.4));
  push('QUEUED', request.queuedSeconds);
  push('PROVISIONING', rng.logNormal(computeType === 'BUILD_GENERAL1_SMALL' ? 18 : 26, 0.18));
  for (const [type, seconds] of plan.phases) {
    const failed = type === plan.failedPhase;
    push(type, seconds, failed ? 'FAILED' : 'SUCCEEDED');
    // CodeBuild skips to FINALIZING when INSTALL/PRE_BUILD fail; POST_BUILD and artifacts still run after BUILD.
    if (failed && (type === 'DOWNLOAD_SOURCE' || type === 'INSTALL' || type === 'PRE_BUILD')) break;
  }
  push('FINALIZING', rng.logNormal(3, 0.2));
  phases.push({ type: 'COMPLETED', start: new Date(clock) });

  const end = new Date(clock);
  const truth: BuildTruth = {
    kind: condition.kind,
    ...('incidentId' in condition ? { incidentId: condition.incidentId } : {}),
    ...(condition.kind === 'env_fault' ? { variant: condition.variant } : {}),
    ...(request.remediation ? { remediation: request.remediation } : {}),
    ...(request.remediationOf ? { remediationOf: request.remediationOf } : {}),
  };
  return {
    buildId,
    buildArn: `arn:aws:codebuild:${SIMULATED_REGION}:${SIMULATED_ACCOUNT}:build/${buildId}`,
    buildNumber: request.buildNumber,
    projectName,
    pipelineName: pipeline.name,
    viaPipeline: !pipeline.standalone,
    stageName,
    executionId: request.executionId,
    executionType: request.executionType ?? 'STANDARD',
    sourceVersion: request.sourceVersion,
    initiator: request.initiator,
    environmentVariables: request.environmentVariables ?? [],
    computeType,
    image: IMAGES[pipeline.toolchain],
    toolchain: pipeline.toolchain,
    startTime: request.start,
    endTime: end,
    status: plan.failedPhase ? 'FAILED' : 'SUCCEEDED',
    ...(plan.failedPhase ? { failedPhase: plan.failedPhase } : {}),
    phases,
    tests: plan.tests,
    utilization: {
      cpuPercent: round1(plan.cpuPercent),
      memoryPercent: round1(plan.memoryPercent),
      cpuUnits: round1((plan.cpuPercent / 100) * compute.vcpus * 1024),
      memoryMb: Math.round((plan.memoryPercent / 100) * compute.memoryMb),
    },
    truth,
  };
}

interface StagePlan {
  readonly phases: readonly (readonly [PhaseType, number])[];
  readonly failedPhase?: PhaseType;
  readonly failureContext?: { statusCode: string; message: string };
  readonly tests: SimulatedTests | null;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
}

function planBuildStage(request: BuildRequest, compute: { memoryMb: number }, rng: SeededRandom): StagePlan {
  const { pipeline, condition, day } = request;
  const testCount = Math.round(pipeline.testsAtStart + pipeline.testsAddedPerDay * day + rng.normal(0, 4));
  // The BUILD phase is dominated by the test suite: it grows as tests are added.
  const growth = testCount / pipeline.testsAtStart;
  let buildSeconds = pipeline.buildSeconds * (0.35 + 0.65 * growth) * rng.logNormal(1, 0.08);
  // Normal memory scales inversely with the compute type's memory (a rerun on larger compute has headroom).
  const nominalMemory = computeSpec(pipeline.computeType).memoryMb;
  let memoryPercent = clamp(
    rng.normal(pipeline.memoryPercent, 3) * (nominalMemory / compute.memoryMb),
    5,
    100,
  );
  let cpuPercent = clamp(rng.normal(pipeline.cpuPercent, 6), 5, 100);
  const install = rng.logNormal(INSTALL_MEDIAN_SECONDS[pipeline.toolchain], 0.15);
  const phases: [PhaseType, number][] = [
    ['DOWNLOAD_SOURCE', rng.logNormal(6, 0.3)],
    ['INSTALL', install],
    ['PRE_BUILD', rng.logNormal(14, 0.25)],
    ['BUILD', buildSeconds],
    ['POST_BUILD', rng.logNormal(11, 0.25)],
    ['UPLOAD_ARTIFACTS', rng.logNormal(7, 0.3)],
  ];
  const tests = (failing: readonly string[], error = 0): SimulatedTests => ({
    total: testCount,
    failed: failing.length,
    error,
    skipped: Math.round(testCount * 0.01),
    failing,
    durationSeconds: Math.round(buildSeconds * 0.8),
  });
  const commandFailed = (command: string) => ({
    statusCode: 'COMMAND_EXECUTION_ERROR',
    message: `Error while executing command: ${command}. Reason: exit status 1`,
  });
  const testCommand = TEST_COMMANDS[pipeline.toolchain];

  switch (condition.kind) {
    case 'normal':
      return { phases, tests: tests([]), cpuPercent, memoryPercent };
    case 'flaky':
      return {
        phases,
        failedPhase: 'BUILD',
        failureContext: commandFailed(testCommand),
        tests: tests([rng.pick(FLAKY_TESTS[pipeline.toolchain])]),
        cpuPercent,
        memoryPercent,
      };
    case 'regression': {
      const count = rng.int(Math.round(testCount * 0.04), Math.round(testCount * 0.1));
      const failing = Array.from({ length: count }, (_, i) => regressionTestName(pipeline, i));
      return {
        phases,
        failedPhase: 'BUILD',
        failureContext: commandFailed(testCommand),
        tests: tests(failing),
        cpuPercent,
        memoryPercent,
      };
    }
    case 'resource_exhaustion': {
      // Memory creeps towards the limit; GC pressure slows the build; past the limit the kernel kills it.
      memoryPercent = clamp(
        memoryPercent + (100 - memoryPercent) * Math.min(condition.pressure, 1) ** 1.3,
        5,
        99.2,
      );
      buildSeconds *= 1 + 0.45 * Math.min(condition.pressure, 1) ** 2;
      cpuPercent = clamp(cpuPercent + 20 * Math.min(condition.pressure, 1), 5, 100);
      if (condition.pressure < 1) {
        const creeping = phases.map(([t, s]) => [t, t === 'BUILD' ? buildSeconds : s] as [PhaseType, number]);
        return { phases: creeping, tests: tests([]), cpuPercent, memoryPercent };
      }
      const killedAfter = buildSeconds * rng.uniform(0.55, 0.8);
      const oomPhases = phases.map(([t, s]) => [t, t === 'BUILD' ? killedAfter : s] as [PhaseType, number]);
      return {
        phases: oomPhases,
        failedPhase: 'BUILD',
        failureContext: {
          statusCode: 'COMMAND_EXECUTION_ERROR',
          message: `Error while executing command: ${testCommand}. Reason: exit status 137`,
        },
        tests: null,
        cpuPercent,
        memoryPercent: rng.uniform(99.3, 100),
      };
    }
    case 'env_fault':
      return planEnvFault(condition.variant, phases, pipeline, rng);
    case 'bad_deploy':
      throw new Error('a bad deployment happens in the Deploy stage, not the Build stage');
  }
}

function planEnvFault(
  variant: EnvFaultVariant,
  phases: [PhaseType, number][],
  pipeline: PipelineSpec,
  rng: SeededRandom,
): StagePlan {
  const low = { cpuPercent: rng.uniform(6, 14), memoryPercent: rng.uniform(12, 22), tests: null };
  const upTo = (last: PhaseType, seconds: number): [PhaseType, number][] => {
    const index = phases.findIndex(([t]) => t === last);
    return [...phases.slice(0, index), [last, seconds]];
  };
  const installCommand = INSTALL_COMMANDS[pipeline.toolchain];
  switch (variant) {
    case 'dns':
      return {
        ...low,
        phases: upTo('INSTALL', rng.logNormal(70, 0.2)),
        failedPhase: 'INSTALL',
        failureContext: {
          statusCode: 'COMMAND_EXECUTION_ERROR',
          message: `Error while executing command: ${installCommand}. Reason: exit status 1`,
        },
      };
    case 'rate_limit':
      return {
        ...low,
        phases: upTo('PRE_BUILD', rng.logNormal(9, 0.2)),
        failedPhase: 'PRE_BUILD',
        failureContext: {
          statusCode: 'COMMAND_EXECUTION_ERROR',
          message:
            'Error while executing command: docker pull public.ecr.aws/docker/library/node:20-alpine. Reason: exit status 1',
        },
      };
    case 'network_timeout':
      return {
        ...low,
        phases: upTo('INSTALL', rng.logNormal(310, 0.08)),
        failedPhase: 'INSTALL',
        failureContext: {
          statusCode: 'COMMAND_EXECUTION_ERROR',
          message: `Error while executing command: ${installCommand}. Reason: exit status 1`,
        },
      };
  }
}

const DEPLOY_SMOKE_TESTS = 40;

function planDeployStage(request: BuildRequest, rng: SeededRandom): StagePlan {
  const bad = request.condition.kind === 'bad_deploy';
  const rollback = request.executionType === 'ROLLBACK';
  // A rollback redeploys a known-good artifact: no tests to run before the canary, a shorter deploy.
  const phases: [PhaseType, number][] = [
    ['DOWNLOAD_SOURCE', rng.logNormal(4, 0.3)],
    ['INSTALL', rng.logNormal(22, 0.2)],
    ['PRE_BUILD', rng.logNormal(9, 0.25)],
    ['BUILD', rng.logNormal(rollback ? 120 : 170, 0.12)],
    // POST_BUILD bakes the canary; a bad deployment trips the 5xx alarm after a longer bake.
    ['POST_BUILD', bad ? rng.logNormal(320, 0.06) : rng.logNormal(125, 0.1)],
    ['UPLOAD_ARTIFACTS', rng.logNormal(3, 0.3)],
  ];
  const failing = bad
    ? Array.from(
        { length: rng.int(9, 16) },
        (_, i) => `smoke › ${SMOKE_ENDPOINTS[i % SMOKE_ENDPOINTS.length]} returns 2xx`,
      )
    : [];
  return {
    phases,
    ...(bad
      ? {
          failedPhase: 'POST_BUILD' as const,
          failureContext: {
            statusCode: 'COMMAND_EXECUTION_ERROR',
            message: 'Error while executing command: ./scripts/canary-check.sh. Reason: exit status 2',
          },
        }
      : {}),
    tests: {
      total: DEPLOY_SMOKE_TESTS,
      failed: failing.length,
      error: 0,
      skipped: 0,
      failing,
      durationSeconds: Math.round(phases[4]![1]),
    },
    cpuPercent: clamp(rng.normal(bad ? 34 : 28, 4), 5, 100),
    memoryPercent: clamp(rng.normal(31, 3), 5, 100),
  };
}

export const TEST_COMMANDS: Record<PipelineSpec['toolchain'], string> = {
  node: 'npm test -- --ci --reporters=default --reporters=jest-junit',
  java: 'mvn -B verify',
  python: 'pytest -q --junitxml=reports/junit.xml',
};

export const INSTALL_COMMANDS: Record<PipelineSpec['toolchain'], string> = {
  node: 'npm ci',
  java: 'mvn -B dependency:go-offline',
  python: 'pip install -r requirements.txt',
};

const FLAKY_TESTS: Record<PipelineSpec['toolchain'], readonly string[]> = {
  node: ['session › refreshes the token before expiry', 'cart › debounces concurrent updates'],
  java: ['LedgerIT.settlesAfterRetry', 'WebhookClientTest.retriesOnTimeout'],
  python: ['test_indexer.py::test_bulk_flush_ordering', 'test_scheduler.py::test_jitter_window'],
};

const SMOKE_ENDPOINTS = [
  'GET /health',
  'GET /v1/catalog',
  'POST /v1/cart',
  'GET /v1/orders/{id}',
  'POST /v1/checkout',
];

const REGRESSION_AREAS: Record<PipelineSpec['toolchain'], readonly string[]> = {
  node: ['checkout › applies the EU VAT rate', 'pricing › rounds half-even', 'cart › keeps quantities'],
  java: [
    'InvoiceServiceTest.totalsIncludeTax',
    'CurrencyConverterTest.roundsHalfEven',
    'RefundPolicyTest.partialRefund',
  ],
  python: [
    'test_tokenizer.py::test_unicode_folding',
    'test_ranker.py::test_boost_fields',
    'test_schema.py::test_nested_facets',
  ],
};

/** Test names a project's history tracks closely: its known flaky tests and its regression-prone areas. */
export function watchedTestNames(toolchain: PipelineSpec['toolchain']): string[] {
  return [...FLAKY_TESTS[toolchain], ...REGRESSION_AREAS[toolchain]];
}

function regressionTestName(pipeline: PipelineSpec, index: number): string {
  const areas = REGRESSION_AREAS[pipeline.toolchain];
  const base = areas[index % areas.length]!;
  return index < areas.length ? base : `${base} [case ${Math.floor(index / areas.length) + 1}]`;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
