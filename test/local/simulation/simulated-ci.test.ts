import { SMALL_SCENARIO } from './small-scenario';
import { collectEvent, DataLakeStore } from '../../../core/collection/collector';
import { toActionStateChangeEvent, toStateChangeEvent } from '../../../local/simulation/codebuild-shapes';
import { generateHistory } from '../../../local/simulation/history';
import { PipelineExecutionNotFoundError, SimulatedCi } from '../../../local/simulation/simulated-ci';

const later = (date: Date, minutes: number) => new Date(date.getTime() + minutes * 60_000);

describe('SimulatedCi', () => {
  const history = generateHistory(SMALL_SCENARIO);
  const first = (incidentId: string) =>
    history.builds.find((b) => b.truth.incidentId === incidentId && b.status === 'FAILED')!;

  it('passes a rerun of an environment fault', () => {
    const ci = new SimulatedCi(history);
    const failed = first('env-dns');
    const rerun = ci.rerun(failed.buildId, { remediationId: 'r1' }, later(failed.endTime, 1));
    expect(rerun.status).toBe('SUCCEEDED');
    expect(rerun.sourceVersion).toBe(failed.sourceVersion);
    expect(rerun.environmentVariables).toEqual([{ name: 'PIPEMEND_REMEDIATION_ID', value: 'r1' }]);
    expect(ci.takeStartedBuilds()).toEqual([rerun]);
  });

  it('fails a rerun of a regression again', () => {
    const ci = new SimulatedCi(history);
    const failed = first('regression');
    expect(ci.rerun(failed.buildId, { remediationId: 'r2' }, later(failed.endTime, 1)).status).toBe('FAILED');
  });

  it('passes a rerun of an out-of-memory build only on a larger compute type', () => {
    const ci = new SimulatedCi(history);
    const failed = first('exhaustion');
    expect(ci.rerun(failed.buildId, { remediationId: 'r3' }, later(failed.endTime, 1)).status).toBe('FAILED');
    const larger = ci.rerun(
      failed.buildId,
      { remediationId: 'r4', computeTypeOverride: 'BUILD_GENERAL1_MEDIUM' },
      later(failed.endTime, 2),
    );
    expect(larger.status).toBe('SUCCEEDED');
    expect(larger.computeType).toBe('BUILD_GENERAL1_MEDIUM');
  });

  it('rolls a bad deployment back to the last good release and clears the health alarm', () => {
    const ci = new SimulatedCi(history);
    const failed = first('bad-deploy');
    const at = later(failed.endTime, 2);
    expect(ci.healthAlarm('storefront', at).state).toBe('ALARM');
    const target = ci.lastSuccessfulExecution('storefront', 'Deploy', failed.startTime)!;
    const rollback = ci.rollbackStage('storefront', 'Deploy', target, 'r5', at);
    expect(rollback.status).toBe('SUCCEEDED');
    expect(rollback.executionType).toBe('ROLLBACK');
    expect(ci.healthAlarm('storefront', later(rollback.endTime, 1)).state).toBe('OK');
  });

  it('refuses to roll back to an execution that did not succeed', () => {
    const ci = new SimulatedCi(history);
    const failed = first('bad-deploy');
    expect(() =>
      ci.rollbackStage('storefront', 'Deploy', failed.executionId, 'r6', later(failed.endTime, 1)),
    ).toThrow(PipelineExecutionNotFoundError);
  });

  it('feeds the collector CodeBuild and CodePipeline events it accepts, with the pipeline context', async () => {
    const ci = new SimulatedCi(history);
    const objects = new Map<string, string>();
    const store: DataLakeStore = {
      put: async (key, body) => void objects.set(key, body),
      get: async (key) => objects.get(key),
    };
    const ports = { ...ci.collectorPorts(), store, emitMetrics: () => undefined };
    const deploy = history.builds.find((b) => b.stageName === 'Deploy')!;
    await collectEvent(toActionStateChangeEvent(deploy), ports);
    const outcome = await collectEvent(toStateChangeEvent(deploy), ports);
    expect(outcome.status).toBe('stored');
    if (outcome.status !== 'stored') return;
    expect(outcome.record.pipeline).toEqual({
      pipelineName: 'storefront',
      stageName: 'Deploy',
      actionName: 'DeployAndVerify',
      executionId: deploy.executionId,
    });
    expect(outcome.record.tests).toEqual({ total: 40, failed: 0, error: 0, skipped: 0 });
    expect(outcome.record.utilization?.memoryUtilizedPercent).toBe(deploy.utilization!.memoryPercent);
    expect(outcome.record.phases.BUILD).toBe(deploy.phases.find((p) => p.type === 'BUILD')!.seconds);
  });
});
