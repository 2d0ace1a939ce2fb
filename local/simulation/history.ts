/**
 * Generates the organic build history of a scenario: what the pipelines did with no Pipemend installed.
 * Pipeline executions arrive with a diurnal, weekday-heavy profile; queue time rises with the installation's
 * load; the test suite and build time grow; a few tests are flaky; and the labelled incidents happen, each
 * with the time a human team would have recovered it by hand (the "without Pipemend" baseline).
 */
import { SimulatedBuild, simulateBuild, BuildCondition, StageName } from './build';
import { SeededRandom, seedFrom } from './random';
import { IncidentSpec, PipelineSpec, ScenarioConfig } from './scenario';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Relative build activity per UTC hour of a weekday: office hours with a lunch dip. */
const HOURLY_PROFILE = [
  0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.6, 1.5, 4, 8, 10, 9.5, 6, 8.5, 9.5, 9, 8, 6, 3.5, 2, 1.3, 0.9, 0.6, 0.4,
];
const PROFILE_SUM = HOURLY_PROFILE.reduce((a, b) => a + b, 0);
const WEEKEND_FACTOR = 0.12;

export interface IncidentTruth {
  readonly spec: IncidentSpec;
  readonly start: Date;
  /** Organic builds the incident affected (failed, or for exhaustion also the creeping ones). */
  readonly affectedBuildIds: readonly string[];
  /** The first organic build that failed because of the incident. */
  readonly firstFailureBuildId?: string;
  readonly firstFailureAt?: Date;
  /** When the team would have recovered by hand (the next passing build of the stage after their action). */
  readonly manualRecoveryAt: Date;
  /** What the team did by hand and when they started. */
  readonly manualAction: string;
  readonly manualActionAt?: Date;
}

export interface SimulatedHistory {
  readonly scenario: ScenarioConfig;
  readonly start: Date;
  readonly end: Date;
  /** Every organic build, ordered by end time. */
  readonly builds: readonly SimulatedBuild[];
  readonly incidents: readonly IncidentTruth[];
}

interface Execution {
  readonly pipeline: PipelineSpec;
  readonly start: Date;
  /** Executions added on purpose: an incident's trigger, or the team's fix or rerun. */
  readonly forced?: 'incident' | 'fix';
  readonly deploys: boolean;
}

/** When a team notices a failure and acts: within the hour in office hours, the next working morning otherwise. */
export function humanResponseAt(failureAt: Date, rng: SeededRandom): Date {
  const t = new Date(failureAt);
  const weekday = t.getUTCDay() >= 1 && t.getUTCDay() <= 5;
  const hour = t.getUTCHours() + t.getUTCMinutes() / 60;
  if (weekday && hour >= 8.5 && hour < 18) return new Date(t.getTime() + rng.uniform(25, 95) * 60_000);
  const next = new Date(
    Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate() + (hour >= 18 ? 1 : 0), 9),
  );
  while (next.getUTCDay() === 0 || next.getUTCDay() === 6) next.setUTCDate(next.getUTCDate() + 1);
  return new Date(next.getTime() + rng.uniform(15, 80) * 60_000);
}

export function validateScenario(scenario: ScenarioConfig): void {
  if (!Number.isFinite(Date.parse(scenario.startDate))) {
    throw new Error(`scenario startDate '${scenario.startDate}' is not an ISO date`);
  }
  if (!(scenario.days >= 1)) throw new Error(`scenario days must be at least 1, got ${scenario.days}`);
  if (scenario.pipelines.length === 0) throw new Error('scenario has no pipelines');
  const names = new Set(scenario.pipelines.map((p) => p.name));
  const ids = new Set<string>();
  for (const incident of scenario.incidents) {
    if (!names.has(incident.pipeline)) {
      throw new Error(`incident '${incident.id}' names unknown pipeline '${incident.pipeline}'`);
    }
    if (ids.has(incident.id)) throw new Error(`incident id '${incident.id}' is used twice`);
    ids.add(incident.id);
    if (incident.day < 0 || incident.day >= scenario.days) {
      throw new Error(
        `incident '${incident.id}' starts on day ${incident.day}, outside the ${scenario.days} simulated days`,
      );
    }
    const pipeline = scenario.pipelines.find((p) => p.name === incident.pipeline);
    if (incident.kind === 'bad_deploy' && pipeline?.standalone) {
      throw new Error(
        `bad_deploy incident '${incident.id}' needs a pipeline with a Deploy stage, '${incident.pipeline}' is stand-alone`,
      );
    }
    if (incident.kind === 'env_fault' && !incident.variant) {
      throw new Error(
        `env_fault incident '${incident.id}' needs a variant (dns, rate_limit or network_timeout)`,
      );
    }
  }
}

export function generateHistory(scenario: ScenarioConfig): SimulatedHistory {
  validateScenario(scenario);
  const start = new Date(scenario.startDate);
  const end = new Date(start.getTime() + scenario.days * DAY_MS);
  const arrivals = new SeededRandom(scenario.seed);
  const executions: Execution[] = [];
  for (const pipeline of scenario.pipelines) {
    for (let day = 0; day < scenario.days; day++) {
      const date = new Date(start.getTime() + day * DAY_MS);
      const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
      for (let hour = 0; hour < 24; hour++) {
        const rate = (pipeline.executionsPerWorkday * HOURLY_PROFILE[hour]!) / PROFILE_SUM;
        const count = arrivals.poisson(weekend ? rate * WEEKEND_FACTOR : rate);
        for (let i = 0; i < count; i++) {
          executions.push({
            pipeline,
            start: new Date(date.getTime() + hour * HOUR_MS + arrivals.uniform(0, HOUR_MS)),
            deploys: !pipeline.standalone && arrivals.chance(pipeline.deployShare),
          });
        }
      }
    }
  }
  // Every incident gets the execution that triggers it, so that a scenario's labels always materialise.
  for (const incident of scenario.incidents) {
    const pipeline = scenario.pipelines.find((p) => p.name === incident.pipeline)!;
    if (incident.kind === 'resource_exhaustion') continue;
    executions.push({
      pipeline,
      start: new Date(start.getTime() + incident.day * DAY_MS),
      forced: 'incident',
      deploys: incident.kind === 'bad_deploy',
    });
  }
  executions.sort((a, b) => a.start.getTime() - b.start.getTime());
  return new HistoryBuilder(scenario, start, end, executions).build();
}

class HistoryBuilder {
  private readonly builds: SimulatedBuild[] = [];
  private readonly buildNumbers = new Map<string, number>();
  private readonly incidentState = new Map<string, MutableIncident>();
  private readonly loadTimes: number[];

  constructor(
    private readonly scenario: ScenarioConfig,
    private readonly start: Date,
    private readonly end: Date,
    private readonly executions: Execution[],
  ) {
    this.loadTimes = executions.map((e) => e.start.getTime());
    for (const spec of scenario.incidents) {
      this.incidentState.set(spec.id, {
        spec,
        start: new Date(start.getTime() + spec.day * DAY_MS),
        affected: [],
        rng: new SeededRandom(seedFrom(spec.id, scenario.seed)),
      });
    }
  }

  build(): SimulatedHistory {
    // Executions are generated in start order; fix executions (a human's action) are inserted as they arise.
    const queue = [...this.executions];
    for (let i = 0; i < queue.length; i++) {
      const execution = queue[i]!;
      if (execution.start.getTime() >= this.end.getTime()) continue;
      const extra = this.runExecution(execution, i);
      for (const added of extra) insertSorted(queue, added, i + 1);
    }
    this.builds.sort((a, b) => a.endTime.getTime() - b.endTime.getTime());
    return {
      scenario: this.scenario,
      start: this.start,
      end: this.end,
      builds: this.builds,
      incidents: [...this.incidentState.values()].map((s) => this.finishIncident(s)),
    };
  }

  private runExecution(execution: Execution, index: number): Execution[] {
    const { pipeline } = execution;
    const rng = new SeededRandom(
      seedFrom(`${pipeline.name}#${execution.start.toISOString()}#${index}`, this.scenario.seed),
    );
    const executionId = rng.uuid();
    const sourceVersion = rng.hex(40);
    const buildCondition = this.conditionFor(pipeline, 'Build', execution, rng);
    const computeType = this.computeTypeAt(pipeline, execution.start);
    const build = this.simulate(
      pipeline,
      'Build',
      execution.start,
      executionId,
      sourceVersion,
      buildCondition,
      rng,
      computeType,
    );
    const followUps = this.recordOutcome(build, buildCondition, rng);
    if (build.status !== 'SUCCEEDED' || !execution.deploys || this.deployFrozen(pipeline, build.endTime)) {
      return followUps;
    }
    const deployStart = new Date(build.endTime.getTime() + rng.uniform(20, 90) * 1000);
    const deployCondition = this.conditionFor(pipeline, 'Deploy', { ...execution, start: deployStart }, rng);
    const deploy = this.simulate(
      pipeline,
      'Deploy',
      deployStart,
      executionId,
      sourceVersion,
      deployCondition,
      rng,
    );
    return [...followUps, ...this.recordOutcome(deploy, deployCondition, rng)];
  }

  private simulate(
    pipeline: PipelineSpec,
    stageName: StageName,
    start: Date,
    executionId: string,
    sourceVersion: string,
    condition: BuildCondition,
    rng: SeededRandom,
    computeType?: string,
  ): SimulatedBuild {
    const project = stageName === 'Build' ? pipeline.buildProject : pipeline.deployProject;
    const buildNumber = (this.buildNumbers.get(project) ?? 0) + 1;
    this.buildNumbers.set(project, buildNumber);
    const build = simulateBuild(
      {
        pipeline,
        stageName,
        buildNumber,
        executionId,
        sourceVersion,
        initiator: pipeline.standalone
          ? `GitHub-Hookshot/${sourceVersion.slice(0, 7)}`
          : `codepipeline/${pipeline.name}`,
        ...(computeType ? { computeType } : {}),
        start,
        queuedSeconds: this.queuedSeconds(start, rng),
        day: (start.getTime() - this.start.getTime()) / DAY_MS,
        condition,
      },
      rng,
    );
    this.builds.push(build);
    return build;
  }

  /** Queue time rises with the number of executions started across the installation around that time. */
  private queuedSeconds(at: Date, rng: SeededRandom): number {
    const t = at.getTime();
    const load = countInRange(this.loadTimes, t - HOUR_MS / 2, t + HOUR_MS / 2);
    return rng.logNormal(4 + 2.5 * Math.max(0, load - 1), 0.25);
  }

  private conditionFor(
    pipeline: PipelineSpec,
    stage: StageName,
    execution: Execution,
    rng: SeededRandom,
  ): BuildCondition {
    const t = execution.start.getTime();
    for (const state of this.incidentState.values()) {
      const { spec } = state;
      if (spec.pipeline !== pipeline.name || t < state.start.getTime()) continue;
      if (stage === 'Build' && spec.kind === 'env_fault') {
        if (t < state.start.getTime() + (spec.hours ?? 0.5) * HOUR_MS) {
          return { kind: 'env_fault', incidentId: spec.id, variant: spec.variant! };
        }
      }
      if (stage === 'Build' && spec.kind === 'regression') {
        if (t < state.start.getTime() + (spec.hours ?? 20) * HOUR_MS && execution.forced !== 'fix') {
          return { kind: 'regression', incidentId: spec.id };
        }
      }
      const resized = state.manualActionAt && t >= state.manualActionAt.getTime();
      if (stage === 'Build' && spec.kind === 'resource_exhaustion' && !resized) {
        // Memory keeps creeping until the team resizes the build; past the ramp every build runs out.
        const pressure = (t - state.start.getTime()) / ((spec.rampDays ?? 8) * DAY_MS);
        return { kind: 'resource_exhaustion', incidentId: spec.id, pressure };
      }
      if (stage === 'Deploy' && spec.kind === 'bad_deploy' && !state.firstFailure) {
        return { kind: 'bad_deploy', incidentId: spec.id };
      }
    }
    return rng.chance(stage === 'Build' ? this.scenario.flakyTestRate : 0)
      ? { kind: 'flaky' }
      : { kind: 'normal' };
  }

  /** After a team resizes an exhausted build, the project runs on the next compute type up. */
  private computeTypeAt(pipeline: PipelineSpec, at: Date): string | undefined {
    for (const state of this.incidentState.values()) {
      if (state.spec.pipeline !== pipeline.name || state.spec.kind !== 'resource_exhaustion') continue;
      if (state.manualActionAt && at.getTime() >= state.manualActionAt.getTime()) {
        return computeLarger(pipeline.computeType);
      }
    }
    return undefined;
  }

  /** The team freezes deployments of a pipeline between a bad deployment and its rollback. */
  private deployFrozen(pipeline: PipelineSpec, at: Date): boolean {
    for (const state of this.incidentState.values()) {
      if (state.spec.pipeline !== pipeline.name || state.spec.kind !== 'bad_deploy' || !state.firstFailure)
        continue;
      if (!state.recoveredAt || at.getTime() < state.recoveredAt.getTime()) return true;
    }
    return false;
  }

  /** Tracks incidents and schedules the human's action; returns executions that action adds. */
  private recordOutcome(build: SimulatedBuild, condition: BuildCondition, rng: SeededRandom): Execution[] {
    if (!('incidentId' in condition)) {
      this.markRecoveries(build);
      return [];
    }
    const state = this.incidentState.get(condition.incidentId)!;
    state.affected.push(build.buildId);
    if (build.status === 'SUCCEEDED') return [];
    if (state.firstFailure) return [];
    state.firstFailure = build;
    const pipeline = this.scenario.pipelines.find((p) => p.name === state.spec.pipeline)!;
    const actionAt = humanResponseAt(build.endTime, state.rng);
    state.manualActionAt = actionAt;
    switch (state.spec.kind) {
      case 'env_fault':
        state.manualAction = 'reran the build after the fault cleared';
        return [{ pipeline, start: actionAt, forced: 'fix', deploys: false }];
      case 'resource_exhaustion':
        state.manualAction = `moved the project to ${computeLarger(pipeline.computeType)} and reran`;
        return [{ pipeline, start: actionAt, forced: 'fix', deploys: false }];
      case 'regression': {
        // The team pushes the fix when it is ready; in office hours at the earliest.
        const fixReady = new Date(state.start.getTime() + (state.spec.hours ?? 20) * HOUR_MS);
        const fixAt = fixReady.getTime() > actionAt.getTime() ? fixReady : actionAt;
        state.manualAction = 'fixed the failing tests and pushed the fix';
        state.manualActionAt = fixAt;
        return [{ pipeline, start: fixAt, forced: 'fix', deploys: false }];
      }
      case 'bad_deploy': {
        state.manualAction = 'rolled the deployment back by hand';
        const rollback = this.simulate(
          pipeline,
          'Deploy',
          actionAt,
          rng.uuid(),
          build.sourceVersion,
          { kind: 'normal' },
          rng,
        );
        state.recoveredAt = rollback.endTime;
        return [];
      }
    }
  }

  /** The first passing build of an incident's stage after its first failure recovers it. */
  private markRecoveries(build: SimulatedBuild): void {
    if (build.status !== 'SUCCEEDED') return;
    for (const state of this.incidentState.values()) {
      if (state.recoveredAt || !state.firstFailure || state.spec.pipeline !== build.pipelineName) continue;
      if (state.firstFailure.stageName !== build.stageName) continue;
      if (build.startTime.getTime() < state.firstFailure.endTime.getTime()) continue;
      state.recoveredAt = build.endTime;
    }
  }

  private finishIncident(state: MutableIncident): IncidentTruth {
    return {
      spec: state.spec,
      start: state.start,
      affectedBuildIds: state.affected,
      ...(state.firstFailure
        ? { firstFailureBuildId: state.firstFailure.buildId, firstFailureAt: state.firstFailure.endTime }
        : {}),
      manualRecoveryAt: state.recoveredAt ?? this.end,
      manualAction: state.manualAction ?? 'none needed within the simulated period',
      ...(state.manualActionAt ? { manualActionAt: state.manualActionAt } : {}),
    };
  }
}

interface MutableIncident {
  readonly spec: IncidentSpec;
  readonly start: Date;
  readonly affected: string[];
  readonly rng: SeededRandom;
  firstFailure?: SimulatedBuild;
  manualAction?: string;
  manualActionAt?: Date;
  recoveredAt?: Date;
}

function computeLarger(computeType: string): string {
  const order = [
    'BUILD_GENERAL1_SMALL',
    'BUILD_GENERAL1_MEDIUM',
    'BUILD_GENERAL1_LARGE',
    'BUILD_GENERAL1_XLARGE',
  ];
  const index = order.indexOf(computeType);
  return order[Math.min(index + 1, order.length - 1)] ?? computeType;
}

function insertSorted(queue: Execution[], execution: Execution, from: number): void {
  let i = from;
  while (i < queue.length && queue[i]!.start.getTime() <= execution.start.getTime()) i++;
  queue.splice(i, 0, execution);
}

/** Count of the (sorted) times in [from, to). */
function countInRange(times: readonly number[], from: number, to: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  let count = 0;
  for (let i = lo; i < times.length && times[i]! < to; i++) count++;
  return count;
}
