import { notificationRoutesFromEnv } from '../../../lambda/remediation/notification-routes-env';

const MAIN = 'arn:aws:sns:eu-west-1:123456789012:pipemend';

describe('notificationRoutesFromEnv', () => {
  test('reads the main topic and the owner topics by scope', () => {
    expect(
      notificationRoutesFromEnv({
        NOTIFICATION_TOPIC_ARN: MAIN,
        OWNER_TOPICS: '{"pipeline:payments":"arn:aws:sns:eu-west-1:123456789012:payments"}',
      }),
    ).toEqual({
      defaultTopicArn: MAIN,
      owners: { 'pipeline:payments': 'arn:aws:sns:eu-west-1:123456789012:payments' },
    });
  });

  test('without OWNER_TOPICS there are no owners', () => {
    expect(notificationRoutesFromEnv({ NOTIFICATION_TOPIC_ARN: MAIN }).owners).toEqual({});
  });

  test('a missing main topic is refused naming the variable', () => {
    expect(() => notificationRoutesFromEnv({})).toThrow(
      "Environment variable NOTIFICATION_TOPIC_ARN must be an SNS topic ARN, got ''",
    );
  });

  test('OWNER_TOPICS that is not JSON is refused naming the variable', () => {
    expect(() => notificationRoutesFromEnv({ NOTIFICATION_TOPIC_ARN: MAIN, OWNER_TOPICS: '{' })).toThrow(
      /^Environment variable OWNER_TOPICS is not JSON: /,
    );
  });

  test('an owner topic that is not an SNS topic ARN is refused naming its scope', () => {
    expect(() =>
      notificationRoutesFromEnv({
        NOTIFICATION_TOPIC_ARN: MAIN,
        OWNER_TOPICS: '{"project:web":"arn:aws:sqs:eu-west-1:123456789012:q"}',
      }),
    ).toThrow(/^Environment variable OWNER_TOPICS is invalid: project:web: /);
  });

  test('an owner keyed by something other than a project or pipeline scope is refused', () => {
    expect(() =>
      notificationRoutesFromEnv({
        NOTIFICATION_TOPIC_ARN: MAIN,
        OWNER_TOPICS: '{"web":"arn:aws:sns:eu-west-1:123456789012:web"}',
      }),
    ).toThrow(/^Environment variable OWNER_TOPICS is invalid: web: /);
  });
});
