/**
 * Owners, through the synthesized state machine run locally with the routes the stack gives
 * record-outcome: a failure of an owned project is published to the owner's topic, anything else to
 * the main topic, and the daily digest counts each occurrence under the topic it went to.
 */
import { alarmEvent, failedBuildEvent, localWorld } from './remediation-fixtures';
import { DEFAULT_GUARD_LIMITS } from '../../core/remediation/guards';
import {
  notificationRoutesOf,
  remediationDefinition,
  synthesizePipemendTemplate,
} from '../../local/remediation-runner';

const TEAM_TOPIC = 'arn:aws:sns:us-east-1:123456789012:payments-ci';
const APP_TOPIC = 'arn:aws:sns:us-east-1:123456789012:app-release';
const template = synthesizePipemendTemplate({
  owners: [
    { project: 'payments-build', topicArn: TEAM_TOPIC },
    { project: 'web-build', email: 'web-team@example.com' },
    { pipeline: 'app', topicArn: APP_TOPIC },
  ],
});
const definition = remediationDefinition(template);
const routes = notificationRoutesOf(template);

function world(mode: 'suggest' | 'enforce' = 'suggest') {
  return localWorld(definition, {
    limits: DEFAULT_GUARD_LIMITS,
    defaultMode: mode,
    classifyConfig: {
      healthAlarms: [
        { pipelineName: 'app', stageName: 'Deploy', alarmName: 'app-5xx' },
        { pipelineName: 'shop', stageName: 'Deploy', alarmName: 'shop-5xx' },
      ],
    },
    routes,
    clockStepSeconds: 60,
  });
}

describe('notification owners (synthesized definition, run locally)', () => {
  test('a failure of a project whose owner gave a topic is published to that topic', async () => {
    const { ci, aws, run } = world();
    ci.addFailedBuild('payments-build:b1');

    await run(failedBuildEvent('e-1', 'payments-build:b1'));

    expect(aws.callsOf('publish').map((call) => call.TopicArn)).toEqual([TEAM_TOPIC]);
  });

  test('a failure of a project whose owner gave an e-mail is published to the topic the stack created for it', async () => {
    const { ci, aws, run } = world();
    ci.addFailedBuild('web-build:b1');

    await run(failedBuildEvent('e-1', 'web-build:b1'));

    const webTopic = routes.owners['project:web-build'];
    expect(webTopic).toMatch(/^arn:aws:sns:us-east-1:123456789012:RemediationOwnersTopic[0-9a-f]{10}/);
    expect(webTopic).not.toBe(routes.defaultTopicArn);
    expect(aws.callsOf('publish').map((call) => call.TopicArn)).toEqual([webTopic]);
  });

  test('a failure of a project without an owner is published to the main topic', async () => {
    const { ci, aws, run } = world();
    ci.addFailedBuild('app-build:b1');

    await run(failedBuildEvent('e-1', 'app-build:b1'));

    expect(routes.defaultTopicArn).toMatch(/^arn:aws:sns:us-east-1:123456789012:EventsNotifications/);
    expect(aws.callsOf('publish').map((call) => call.TopicArn)).toEqual([routes.defaultTopicArn]);
  });

  test("the digest counts a repeat that was not sent under the owner's topic", async () => {
    const { ci, aws, local, run } = world();
    ci.addFailedBuild('payments-build:b1', { revision: 'rev-1' });
    ci.addFailedBuild('payments-build:b2', { revision: 'rev-2' });

    await run(failedBuildEvent('e-1', 'payments-build:b1'));
    await run(failedBuildEvent('e-2', 'payments-build:b2'));

    expect(aws.callsOf('publish')).toHaveLength(1);
    expect(local.digest.entriesOf('2026-11-21')).toEqual([
      expect.objectContaining({
        topicArn: TEAM_TOPIC,
        where: 'project:payments-build',
        occurrences: 2,
        repeats: 1,
      }),
    ]);
  });

  test("the rollback approval of an owned pipeline is asked of the pipeline's owner", async () => {
    const { ci, aws, run } = world('enforce');
    ci.latestStage.set('app/Deploy', 'bad-exec-9');

    await run(alarmEvent('e-1', 'app-5xx'));

    expect(aws.callsOf('requestApproval').map((call) => call.TopicArn)).toEqual([APP_TOPIC]);
  });

  test('the rollback approval of a pipeline without an owner is asked on the main topic', async () => {
    const { ci, aws, run } = world('enforce');
    ci.latestStage.set('shop/Deploy', 'bad-exec-3');

    await run(alarmEvent('e-1', 'shop-5xx'));

    expect(aws.callsOf('requestApproval').map((call) => call.TopicArn)).toEqual([routes.defaultTopicArn]);
  });

  test("an approval nobody answered is escalated to the pipeline's owner", async () => {
    const { ci, aws, run } = world('enforce');
    ci.latestStage.set('app/Deploy', 'bad-exec-9');
    aws.approval = 'TIMEOUT';

    await run(alarmEvent('e-1', 'app-5xx'));

    expect(aws.callsOf('publish').map((call) => [call.TopicArn, call.Subject])).toEqual([
      [APP_TOPIC, 'Pipemend: Escalation: rollback approval for pipeline:app timed out'],
    ]);
  });
});
