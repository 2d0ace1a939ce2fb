/**
 * The replay's remediation stage: the synthesized remediation state machine run locally (aws-local-stepfunctions)
 * with the remediation Lambdas' own code (classify, guard, pipeline-target, record-outcome), its AWS side
 * answered by the simulation at the replay's clock. One execution per verdict the replay hands it.
 */
import { StateMachineDefinition } from 'aws-local-stepfunctions';

import type { LocalLake } from './embedded-model';
import {
  ReplayClock,
  simulatedActions,
  simulatedClassifyPorts,
  SimulatedAwsCalls,
  simulatedPipelineClients,
} from './simulated-aws';
import { DEFAULT_GUARD_LIMITS } from '../../core/remediation/guards';
import { labelKey } from '../../core/remediation/labels';
import { REMEDIATION_STATES } from '../../core/remediation/remediation';
import { decisionRecordKey } from '../../core/remediation/remediation-record';
import { BuildVerdict, PIPEMEND_EVENT_SOURCE, VERDICT_DETAIL_TYPE } from '../../core/scoring/verdict';
import {
  findRetryExecution,
  findRollbackTarget,
  stageTarget,
  watchExecution,
} from '../../lambda/pipeline-target/pipeline-target';
import { classificationSchema, parseInput } from '../../lambda/remediation/schemas';
import { RemediationMode } from '../../lib/config';
import { createLocalRemediation } from '../remediation-local-handlers';
import { remediationDefinition, RemediationRunner, synthesizePipemendTemplate } from '../remediation-runner';
import type { RemediationResult, Remediator } from '../replay';
import { humanResponseAt } from '../simulation/history';
import { SeededRandom } from '../simulation/random';
import { REMEDIATION_INITIATOR, SimulatedCi } from '../simulation/simulated-ci';

/** The pipeline-target Lambda's default: 120 checks at the one-minute poll interval. */
const MAX_WATCH_CHECKS = 120;

const LAMBDA_STATES = new Set<string>([
  REMEDIATION_STATES.classify,
  REMEDIATION_STATES.guard,
  REMEDIATION_STATES.findRetryExecution,
  REMEDIATION_STATES.findRollbackTarget,
  REMEDIATION_STATES.watchRetry,
  REMEDIATION_STATES.watchRollback,
  REMEDIATION_STATES.record,
]);

let cachedDefinition: StateMachineDefinition | undefined;

/** The remediation state machine as `cdk synth` produces it (synthesized once per process: it takes seconds). */
export function synthesizedRemediationDefinition(): StateMachineDefinition {
  cachedDefinition ??= remediationDefinition(synthesizePipemendTemplate({}));
  return cachedDefinition;
}

export interface SimulatedRemediatorOptions {
  readonly mode: RemediationMode;
  /** Where decision records and outcome labels are written, as record-outcome writes them to S3. */
  readonly lake: LocalLake;
  readonly seed?: number;
}

export class SimulatedRemediator implements Remediator {
  readonly calls: SimulatedAwsCalls = { notifications: [], approvals: 0, apiCalls: 0 };
  private readonly clock = new ReplayClock(new Date(0));
  private readonly runner: RemediationRunner;
  private readonly records: ReturnType<typeof createLocalRemediation>['records'];
  private readonly digest: ReturnType<typeof createLocalRemediation>['digest'];
  private readonly approverDelays: SeededRandom;

  constructor(
    ci: SimulatedCi,
    private readonly options: SimulatedRemediatorOptions,
  ) {
    this.approverDelays = new SeededRandom(options.seed ?? 1);
    const clients = simulatedPipelineClients(ci, this.clock, this.calls);
    const pipelineTarget = async (input: Record<string, unknown>): Promise<unknown> => {
      const classification = parseInput(classificationSchema, input.classification, 'classification');
      const target = stageTarget(classification);
      switch (input.operation) {
        case 'retry-execution':
          return findRetryExecution(target, clients);
        case 'rollback-target':
          return findRollbackTarget(target, clients);
        default:
          return watchExecution(
            {
              pipelineName: target.pipelineName,
              pipelineExecutionId: String(input.pipelineExecutionId),
              ...(input.checkHealth === true && classification.healthAlarmName
                ? { healthAlarmName: classification.healthAlarmName }
                : {}),
              checks: Number(input.checks),
              maxChecks: MAX_WATCH_CHECKS,
            },
            clients,
          );
      }
    };
    const actions = simulatedActions(ci, this.clock, this.calls, pipelineTarget);
    const local = createLocalRemediation({
      classifyPorts: simulatedClassifyPorts(ci, this.clock),
      classifyConfig: {
        ownInitiatorPrefixes: [REMEDIATION_INITIATOR.split('/')[0]!],
        healthAlarms: ci.history.scenario.pipelines
          .filter((p) => !p.standalone)
          .map((p) => ({ pipelineName: p.name, stageName: 'Deploy', alarmName: `${p.name}-5xx-rate` })),
      },
      limits: DEFAULT_GUARD_LIMITS,
      defaultMode: options.mode,
      now: () => this.clock.now(),
      actions: {
        ...actions,
        // The stack asks a human to approve rollbacks: the replay's approver answers after a realistic delay.
        requestApproval: async (input) => {
          this.clock.advanceTo(humanResponseAt(this.clock.now(), this.approverDelays));
          return actions.requestApproval(input);
        },
      },
    });
    this.records = local.records;
    this.digest = local.digest;
    this.runner = new RemediationRunner(synthesizedRemediationDefinition(), local.handlers);
  }

  async remediate(verdict: BuildVerdict, at: Date): Promise<Omit<RemediationResult, 'startedBuildIds'>> {
    const started = performance.now();
    this.clock.set(at);
    const recordsBefore = this.records.length;
    const notificationsBefore = this.calls.notifications.length;
    const digestOccurrencesBefore = this.digest.occurrences.length;
    const event = {
      version: '0',
      id: `verdict-${verdict.buildId}`,
      'detail-type': VERDICT_DETAIL_TYPE,
      source: PIPEMEND_EVENT_SOURCE,
      account: '123456789012',
      time: at.toISOString(),
      region: 'eu-west-1',
      resources: [verdict.buildArn],
      detail: verdict,
    };
    const execution = await this.runner.run(event);
    const record = this.records.length > recordsBefore ? this.records[this.records.length - 1] : undefined;
    const digestOccurrence =
      this.digest.occurrences.length > digestOccurrencesBefore
        ? this.digest.occurrences[this.digest.occurrences.length - 1]
        : undefined;
    if (record) {
      await this.options.lake.put(decisionRecordKey(record), JSON.stringify(record), 'application/json');
      if (record.label)
        await this.options.lake.put(labelKey(record.label), JSON.stringify(record.label), 'application/json');
    }
    return {
      action: record?.classification?.decision.action ?? 'NONE',
      ...(record?.guard ? { guard: record.guard.outcome } : {}),
      status:
        record?.status ??
        (execution.status === 'FAILED' ? `EXECUTION_FAILED: ${execution.error?.name ?? ''}` : 'NOT_RECORDED'),
      reasons: record
        ? [...(record.classification?.decision.reasons ?? []), ...(record.guard?.reasons ?? [])]
        : [],
      ...(record?.detail ? { detail: record.detail } : {}),
      ...(record?.classification?.tests ? { testsBasis: record.classification.tests.basis } : {}),
      ...(record?.testOutcome ? { testOutcome: record.testOutcome } : {}),
      ...(record?.classification?.tests ? { failedTests: record.classification.tests.failed } : {}),
      ...(record?.classification?.fingerprint ? { fingerprint: record.classification.fingerprint.hash } : {}),
      ...(record?.notification?.sent === false ? { notificationFolded: true } : {}),
      ...(digestOccurrence ? { digestOccurrence } : {}),
      executionMs: performance.now() - started,
      stateTransitions: execution.states.length,
      lambdaInvocations: execution.states.filter((state) => LAMBDA_STATES.has(state)).length,
      guarded: execution.states.includes('Guard'),
      notifications: this.calls.notifications.length - notificationsBefore,
      endedAt: this.clock.now().toISOString(),
    };
  }
}
