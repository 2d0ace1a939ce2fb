/**
 * Who hears about a remediation: the owner of its project or pipeline (context `owners`), else the main
 * notification topic. Keyed by the remediation scope (`project:<name>`, `pipeline:<name>`), so a build a
 * pipeline ran goes to the pipeline's owner, as its remediation does.
 */

export interface NotificationRoutes {
  /** Pipemend's main notification topic: every scope without an owner, and failures without a scope. */
  readonly defaultTopicArn: string;
  /** Owner topics by remediation scope (`project:<name>` or `pipeline:<name>`). */
  readonly owners: Readonly<Record<string, string>>;
}

/** The remediation scope an owner entry names. */
export function ownerScope(owner: { readonly project?: string; readonly pipeline?: string }): string {
  if (owner.pipeline !== undefined) return `pipeline:${owner.pipeline}`;
  if (owner.project !== undefined) return `project:${owner.project}`;
  throw new Error('an owner names a project or a pipeline');
}

/** The topic a notification about `scope` goes to. */
export function notificationTopicFor(scope: string | null, routes: NotificationRoutes): string {
  return (scope !== null ? routes.owners[scope] : undefined) ?? routes.defaultTopicArn;
}
