/**
 * Notifications grouped by failure fingerprint, through the synthesized state machine run locally: the
 * first occurrence of a failure is published; a repeat within the window is recorded with the fingerprint
 * and its count, and the execution skips PublishNotification. Escalations are always published.
 */
import { failedBuildEvent, localWorld } from './remediation-fixtures';
import { DEFAULT_GUARD_LIMITS } from '../../core/remediation/guards';
import { RemediationMode } from '../../core/remediation/remediation';
import { remediationDefinition, synthesizePipemendTemplate } from '../../local/remediation-runner';

const definition = remediationDefinition(synthesizePipemendTemplate({}));

function world(mode: RemediationMode) {
  return localWorld(definition, { limits: DEFAULT_GUARD_LIMITS, defaultMode: mode, clockStepSeconds: 60 });
}

describe('notifications by failure fingerprint (synthesized definition, run locally)', () => {
  test('a repeat of a failure already notified is recorded with its fingerprint and not published again', async () => {
    const { ci, aws, local, run } = world('suggest');
    ci.addFailedBuild('app-build:f1', { revision: 'rev-1' });
    ci.addFailedBuild('app-build:f2', { revision: 'rev-2' });

    const first = await run(failedBuildEvent('e-f1', 'app-build:f1'));
    const repeat = await run(failedBuildEvent('e-f2', 'app-build:f2'));

    expect(first.states).toContain('PublishNotification');
    expect(repeat.states).not.toContain('PublishNotification');
    expect(aws.callsOf('publish')).toHaveLength(1);
    const fingerprint = local.records[0]?.classification?.fingerprint?.hash;
    expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(local.records.map((record) => record.notification)).toEqual([
      { fingerprint, occurrence: 1, sent: true },
      { fingerprint, occurrence: 2, sent: false },
    ]);
  });

  test('after the window the same failure is published again', async () => {
    const { ci, aws, run } = world('suggest');
    ci.addFailedBuild('app-build:w1', { revision: 'rev-1' });
    ci.addFailedBuild('app-build:w2', { revision: 'rev-2' });

    await run(failedBuildEvent('e-w1', 'app-build:w1'));
    await run(failedBuildEvent('e-w2', 'app-build:w2'), 25 * 3600);

    expect(aws.callsOf('publish')).toHaveLength(2);
  });

  test('an escalation is published even when the failure was notified already', async () => {
    const { ci, aws, local, run } = world('enforce');
    ci.addFailedBuild('app-build:x1', { revision: 'same' });
    ci.addFailedBuild('app-build:x2', { revision: 'same' });

    await run(failedBuildEvent('e-x1', 'app-build:x1'));
    const second = await run(failedBuildEvent('e-x2', 'app-build:x2'));

    expect(local.records[1]?.status).toBe('ESCALATED');
    expect(second.states).toContain('PublishNotification');
    expect(aws.callsOf('publish')).toHaveLength(2);
  });
});
