/**
 * The notification routes a Lambda is deployed with: `NOTIFICATION_TOPIC_ARN` (the main topic) and
 * `OWNER_TOPICS` (JSON: owner topic ARN by scope, `project:<name>` or `pipeline:<name>`), validated when the
 * function loads so a malformed deployment fails at once, naming the variable.
 */
import * as z from 'zod/mini';

import { NotificationRoutes } from '../../core/remediation/notification-routes';
import { parseJsonEnv } from '../shared/env';
import '../shared/zod-messages';

const topicArn = z.string().check(z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/));
const ownersSchema = z.record(z.string().check(z.regex(/^(project|pipeline):.+$/)), topicArn);

export function notificationRoutesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): NotificationRoutes {
  const defaultTopic = topicArn.safeParse(env.NOTIFICATION_TOPIC_ARN);
  if (!defaultTopic.success) {
    throw new Error(
      `Environment variable NOTIFICATION_TOPIC_ARN must be an SNS topic ARN, got '${env.NOTIFICATION_TOPIC_ARN ?? ''}'`,
    );
  }
  const owners = ownersSchema.safeParse(parseJsonEnv('OWNER_TOPICS', env.OWNER_TOPICS ?? '{}'));
  if (!owners.success) {
    const problems = owners.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`Environment variable OWNER_TOPICS is invalid: ${problems.join('; ')}`);
  }
  return { defaultTopicArn: defaultTopic.data, owners: owners.data };
}
