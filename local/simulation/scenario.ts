/**
 * What the simulation simulates: the pipelines, their normal behaviour, and the labelled incidents injected
 * into them. `DEFAULT_SCENARIO` is the bundled sample that `npm start` replays; tests use smaller ones.
 */

/** Injected incident kinds; each one has a ground-truth remediation outcome (see `simulated-ci.ts`). */
export type IncidentKind = 'env_fault' | 'regression' | 'resource_exhaustion' | 'bad_deploy';

/** How an environment fault shows in the log: DNS failure, registry rate limit, network timeout. */
export type EnvFaultVariant = 'dns' | 'rate_limit' | 'network_timeout';

export interface PipelineSpec {
  /**
   * CodePipeline pipeline name; its stages are `Source`, `Build` (CodeBuild) and `Deploy` (CodeBuild).
   * For a stand-alone project, the name of the service it builds.
   */
  readonly name: string;
  /**
   * A stand-alone CodeBuild project started by a source webhook, with no pipeline and no Deploy stage
   * (Pipemend then reruns the build itself instead of retrying a stage). @default false
   */
  readonly standalone?: boolean;
  /** CodeBuild project of the Build stage. */
  readonly buildProject: string;
  /** CodeBuild project of the Deploy stage (deploys and runs the post-deploy canary check). */
  readonly deployProject: string;
  /** Pipeline executions on a weekday; the diurnal profile spreads them over the day. */
  readonly executionsPerWorkday: number;
  /** Share of executions that reach the Deploy stage (merges to the main branch). */
  readonly deployShare: number;
  /** Median BUILD phase seconds on day 0. */
  readonly buildSeconds: number;
  /** Median test count on day 0 and tests added per day: the BUILD phase grows with the test suite. */
  readonly testsAtStart: number;
  readonly testsAddedPerDay: number;
  /** Median peak memory and CPU utilisation of a normal build, percent. */
  readonly memoryPercent: number;
  readonly cpuPercent: number;
  readonly computeType: string;
  /** The toolchain shapes the log text (npm, Maven, pip). */
  readonly toolchain: 'node' | 'java' | 'python';
}

export interface IncidentSpec {
  /** Stable label id, e.g. `env-dns-storefront`. */
  readonly id: string;
  readonly kind: IncidentKind;
  readonly pipeline: string;
  /** Start, in days after the simulation start (fractional days give the hour). */
  readonly day: number;
  /** env_fault only. */
  readonly variant?: EnvFaultVariant;
  /**
   * env_fault: how long the fault lasts (builds starting in it fail), default 0.5 h.
   * regression: hours until the fixing commit lands, default 20 h.
   * resource_exhaustion: days over which memory creeps up to exhaustion, default 8.
   */
  readonly hours?: number;
  readonly rampDays?: number;
}

export interface ScenarioConfig {
  readonly seed: number;
  /** ISO date (UTC midnight) of day 0. */
  readonly startDate: string;
  readonly days: number;
  readonly pipelines: readonly PipelineSpec[];
  readonly incidents: readonly IncidentSpec[];
  /** Probability that a normal build fails one flaky test (passes on a rerun). Normal, not an incident. */
  readonly flakyTestRate: number;
}

export const DEFAULT_SCENARIO: ScenarioConfig = {
  seed: 20261121,
  startDate: '2026-07-06T00:00:00Z',
  days: 120,
  flakyTestRate: 0.015,
  pipelines: [
    {
      name: 'storefront',
      buildProject: 'storefront-build',
      deployProject: 'storefront-deploy',
      executionsPerWorkday: 9,
      deployShare: 0.4,
      buildSeconds: 240,
      testsAtStart: 1400,
      testsAddedPerDay: 6,
      memoryPercent: 52,
      cpuPercent: 63,
      computeType: 'BUILD_GENERAL1_MEDIUM',
      toolchain: 'node',
    },
    {
      name: 'payments-api',
      buildProject: 'payments-api-build',
      deployProject: 'payments-api-deploy',
      executionsPerWorkday: 7,
      deployShare: 0.35,
      buildSeconds: 420,
      testsAtStart: 2300,
      testsAddedPerDay: 4,
      memoryPercent: 61,
      cpuPercent: 71,
      computeType: 'BUILD_GENERAL1_LARGE',
      toolchain: 'java',
    },
    {
      name: 'search-indexer',
      standalone: true,
      buildProject: 'search-indexer-build',
      deployProject: 'search-indexer-deploy',
      executionsPerWorkday: 5,
      deployShare: 0.3,
      buildSeconds: 180,
      testsAtStart: 650,
      testsAddedPerDay: 3,
      memoryPercent: 47,
      cpuPercent: 55,
      computeType: 'BUILD_GENERAL1_SMALL',
      toolchain: 'python',
    },
    {
      name: 'mobile-backend',
      buildProject: 'mobile-backend-build',
      deployProject: 'mobile-backend-deploy',
      executionsPerWorkday: 6,
      deployShare: 0.45,
      buildSeconds: 300,
      testsAtStart: 1100,
      testsAddedPerDay: 5,
      memoryPercent: 56,
      cpuPercent: 60,
      computeType: 'BUILD_GENERAL1_MEDIUM',
      toolchain: 'node',
    },
  ],
  // Incidents start after the warm-up so a model exists to detect them; times are on purpose spread over
  // working hours, evenings and a weekend, where manual recovery is slowest.
  incidents: [
    { id: 'env-dns-storefront', kind: 'env_fault', pipeline: 'storefront', day: 30.42, variant: 'dns' },
    {
      id: 'env-ratelimit-payments',
      kind: 'env_fault',
      pipeline: 'payments-api',
      day: 38.6,
      variant: 'rate_limit',
    },
    {
      id: 'env-timeout-search',
      kind: 'env_fault',
      pipeline: 'search-indexer',
      day: 47.45,
      variant: 'network_timeout',
    },
    { id: 'env-dns-mobile', kind: 'env_fault', pipeline: 'mobile-backend', day: 61.8, variant: 'dns' },
    {
      id: 'env-ratelimit-storefront',
      kind: 'env_fault',
      pipeline: 'storefront',
      day: 75.55,
      variant: 'rate_limit',
    },
    {
      id: 'env-timeout-payments',
      kind: 'env_fault',
      pipeline: 'payments-api',
      day: 96.4,
      variant: 'network_timeout',
    },
    { id: 'regression-payments', kind: 'regression', pipeline: 'payments-api', day: 44.45, hours: 26 },
    { id: 'regression-storefront', kind: 'regression', pipeline: 'storefront', day: 82.6, hours: 18 },
    { id: 'regression-mobile', kind: 'regression', pipeline: 'mobile-backend', day: 108.42, hours: 22 },
    {
      id: 'exhaustion-search',
      kind: 'resource_exhaustion',
      pipeline: 'search-indexer',
      day: 55,
      rampDays: 8,
    },
    {
      id: 'exhaustion-mobile',
      kind: 'resource_exhaustion',
      pipeline: 'mobile-backend',
      day: 86,
      rampDays: 7,
    },
    { id: 'bad-deploy-storefront', kind: 'bad_deploy', pipeline: 'storefront', day: 52.64 },
    { id: 'bad-deploy-payments', kind: 'bad_deploy', pipeline: 'payments-api', day: 103.85 },
  ],
};
