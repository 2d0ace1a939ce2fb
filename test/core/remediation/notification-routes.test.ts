import { notificationTopicFor, ownerScope } from '../../../core/remediation/notification-routes';

const routes = {
  defaultTopicArn: 'arn:aws:sns:eu-west-1:123456789012:main',
  owners: { 'pipeline:payments': 'arn:aws:sns:eu-west-1:123456789012:payments' },
};

describe('notificationTopicFor', () => {
  test("an owned scope goes to its owner's topic", () => {
    expect(notificationTopicFor('pipeline:payments', routes)).toBe(
      'arn:aws:sns:eu-west-1:123456789012:payments',
    );
  });

  test('a scope without an owner goes to the main topic', () => {
    expect(notificationTopicFor('project:payments', routes)).toBe(routes.defaultTopicArn);
  });

  test('a record without a scope (classification failed) goes to the main topic', () => {
    expect(notificationTopicFor(null, routes)).toBe(routes.defaultTopicArn);
  });
});

describe('ownerScope', () => {
  test('names the remediation scope of a pipeline owner', () => {
    expect(ownerScope({ pipeline: 'payments' })).toBe('pipeline:payments');
  });

  test('names the remediation scope of a project owner', () => {
    expect(ownerScope({ project: 'web-build' })).toBe('project:web-build');
  });
});
