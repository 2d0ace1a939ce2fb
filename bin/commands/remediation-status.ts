import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { Command, InvalidArgumentError, Option } from 'commander';

import {
  BreakerState,
  DEFAULT_GUARD_LIMITS,
  GuardLimits,
  isBreakerOpen,
} from '../../core/remediation/guards';
import { REMEDIATION_MODES } from '../../lib/config';

export interface RemediationState {
  /** Scope → mode set in the table. */
  readonly modes: Map<string, string>;
  readonly breakers: Map<string, BreakerState>;
  /** Newest first. */
  readonly records: readonly RecordSummary[];
}

export interface RecordSummary {
  readonly remediationId: string;
  readonly scope: string | null;
  readonly action: string;
  readonly guardOutcome: string;
  readonly status: string;
  readonly recordedAt: string;
  readonly labelKind?: string;
}

/** Reads the modes, breakers and decision summaries from the remediation table (budgets and claims are skipped). */
export async function readRemediationState(
  documents: DynamoDBDocumentClient,
  tableName: string,
): Promise<RemediationState> {
  const modes = new Map<string, string>();
  const breakers = new Map<string, BreakerState>();
  const records: RecordSummary[] = [];
  const pages = paginateScan(
    { client: documents },
    {
      TableName: tableName,
      FilterExpression: 'begins_with(pk, :mode) OR begins_with(pk, :breaker) OR begins_with(pk, :record)',
      ExpressionAttributeValues: { ':mode': 'mode#', ':breaker': 'breaker#', ':record': 'record#' },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const pk = String(item.pk);
      if (pk.startsWith('mode#')) modes.set(pk.slice('mode#'.length), String(item.mode));
      else if (pk.startsWith('breaker#')) {
        breakers.set(pk.slice('breaker#'.length), {
          consecutiveFailures: Number(item.consecutiveFailures ?? 0),
          ...(typeof item.lastFailureAt === 'number' ? { lastFailureAt: item.lastFailureAt } : {}),
          ...(typeof item.escalatedAt === 'number' ? { escalatedAt: item.escalatedAt } : {}),
        });
      } else {
        records.push({
          remediationId: pk.slice('record#'.length),
          scope: typeof item.scope === 'string' ? item.scope : null,
          action: String(item.action),
          guardOutcome: String(item.guardOutcome),
          status: String(item.status),
          recordedAt: String(item.recordedAt),
          ...(typeof item.labelKind === 'string' ? { labelKind: item.labelKind } : {}),
        });
      }
    }
  }
  records.sort((a, b) => b.recordedAt.localeCompare(a.recordedAt));
  return { modes, breakers, records };
}

export function formatRemediationState(
  state: RemediationState,
  options: { defaultMode: string; limits: GuardLimits; nowSeconds: number; recent: number },
): string {
  const scopes = [...new Set([...state.modes.keys(), ...state.breakers.keys()])].sort();
  const lines = [`Scopes (default mode: ${options.defaultMode}):`];
  if (scopes.length === 0) lines.push('  none yet');
  for (const scope of scopes) {
    const breaker = state.breakers.get(scope);
    const open = breaker ? isBreakerOpen(breaker, options.limits, options.nowSeconds) : false;
    const failures = breaker
      ? `${breaker.consecutiveFailures} consecutive failed remediation(s)`
      : 'no remediation yet';
    const escalated = breaker?.escalatedAt
      ? `, escalated ${new Date(breaker.escalatedAt * 1000).toISOString()}`
      : '';
    lines.push(
      `  ${scope}  mode ${state.modes.get(scope) ?? `${options.defaultMode} (default)`}  breaker ${open ? 'OPEN' : 'closed'}: ${failures}${escalated}`,
    );
  }
  lines.push(`Recent remediations (newest first, up to ${options.recent}):`);
  if (state.records.length === 0) lines.push('  none yet');
  for (const record of state.records.slice(0, options.recent)) {
    lines.push(
      `  ${record.recordedAt}  ${record.scope ?? '-'}  ${record.action}  ${record.guardOutcome} → ${record.status}${record.labelKind ? `  label ${record.labelKind}` : ''}  ${record.remediationId}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

interface StatusOptions {
  readonly table: string;
  readonly defaultMode: string;
  readonly recent: number;
  readonly region?: string;
}

/** `pipemend remediation-status --table <StateTable>`: modes, circuit breakers and recent remediations. */
export function registerRemediationStatusCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  clientFor: (region?: string) => DynamoDBDocumentClient = (region) =>
    DynamoDBDocumentClient.from(new DynamoDBClient(region ? { region } : {})),
  now: () => Date = () => new Date(),
): void {
  program
    .command('remediation-status')
    .description('Show remediation modes, circuit breakers and recent remediations from the state table')
    .requiredOption('--table <name>', 'the remediation state table (stack output RemediationStateTableName)')
    .addOption(
      new Option('--default-mode <mode>', 'the deployed defaultMode, for scopes without their own')
        .choices(REMEDIATION_MODES)
        .default('shadow'),
    )
    .option('--recent <n>', 'how many recent remediations to list', parseCount, 20)
    .option('--region <region>', 'AWS region (default: from the AWS profile/environment)')
    .action(async (options: StatusOptions) => {
      const state = await readRemediationState(clientFor(options.region), options.table);
      write(
        formatRemediationState(state, {
          defaultMode: options.defaultMode,
          limits: DEFAULT_GUARD_LIMITS,
          nowSeconds: Math.floor(now().getTime() / 1000),
          recent: options.recent,
        }),
      );
    });
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value.trim()) || count < 1 || count > 1000) {
    throw new InvalidArgumentError(`must be an integer between 1 and 1000, got '${value}'`);
  }
  return count;
}
