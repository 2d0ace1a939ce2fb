/**
 * The training window's stratified sample from the compacted table on AWS: Athena `UNLOAD`s the sample
 * query (`athenaUnloadSampleSql`) to a fresh prefix under `athena-results/unload/`, the caller waits for
 * it within a bounded time, then reads the files with `readUnloadedSample`. Used by the embedded-trainer
 * Lambda and the SageMaker pipeline's window Lambda when `trainingSource` is `compacted`.
 *
 * Waiting: GetQueryExecution is polled with a growing interval until the query reaches a final state or
 * the time budget (shorter than the Lambda's timeout) runs out; then the query is stopped, so a timed-out
 * run does not go on scanning, and a typed error says so. FAILED and CANCELLED end in a typed error with
 * Athena's StateChangeReason. Throttling (TooManyRequestsException) of StartQueryExecution is retried
 * with the same ClientRequestToken (so a retry never starts a second query); throttled polls just wait.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';

import { readUnloadedSample } from './parquet-unload-reader';
import { athenaUnloadSampleSql, WindowSample, WindowSamplePlan } from './parquet-window';

/** The workgroup's query-result location, and the UNLOAD outputs under it: one prefix per run. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

export function unloadPrefix(runId: string): string {
  if (!/^[A-Za-z0-9_-]{8,128}$/.test(runId)) throw new Error(`invalid UNLOAD run id '${runId}'`);
  return `${ATHENA_RESULTS_PREFIX}unload/${runId}/`;
}

/** The query ended FAILED or CANCELLED; the message carries Athena's StateChangeReason. */
export class AthenaQueryFailedError extends Error {
  public override readonly name = 'AthenaQueryFailedError';

  constructor(
    readonly queryExecutionId: string,
    readonly state: string,
    readonly reason: string,
  ) {
    super(`Athena query ${queryExecutionId} ended ${state}: ${reason}`);
  }
}

/** The query did not finish within the time budget (it was asked to stop). */
export class AthenaQueryTimeoutError extends Error {
  public override readonly name = 'AthenaQueryTimeoutError';
}

export interface AthenaTiming {
  /** How long to wait for the query, start included. */
  readonly timeoutMillis: number;
  /** First wait between polls; grows by half each time up to `maxPollMillis`. @default 1000 */
  readonly pollMillis?: number;
  /** @default 10000 */
  readonly maxPollMillis?: number;
  /** StartQueryExecution attempts when throttled. @default 5 */
  readonly maxStartAttempts?: number;
  /** Injected in tests. @default Date.now */
  readonly now?: () => number;
  /** Injected in tests. @default setTimeout */
  readonly sleep?: (millis: number) => Promise<void>;
}

export interface AthenaQuery {
  readonly sql: string;
  readonly workGroup: string;
  readonly database: string;
  /** Idempotency token (32–128 characters): a repeated start with it does not start a second query. */
  readonly clientRequestToken: string;
}

const FINAL_FAILURES: readonly string[] = [QueryExecutionState.FAILED, QueryExecutionState.CANCELLED];

function isThrottled(error: unknown): boolean {
  return (error as { name?: string }).name === 'TooManyRequestsException';
}

/** Starts the query and waits for it to succeed; returns its QueryExecutionId. */
export async function runAthenaQuery(
  athena: AthenaClient,
  query: AthenaQuery,
  timing: AthenaTiming,
): Promise<string> {
  const now = timing.now ?? Date.now;
  const sleep = timing.sleep ?? ((millis) => new Promise<void>((resolve) => setTimeout(resolve, millis)));
  const deadline = now() + timing.timeoutMillis;
  const maxPoll = timing.maxPollMillis ?? 10_000;
  let wait = timing.pollMillis ?? 1000;
  const pause = async (): Promise<boolean> => {
    const remaining = deadline - now();
    if (remaining <= 0) return false;
    await sleep(Math.min(wait, remaining));
    wait = Math.min(Math.round(wait * 1.5), maxPoll);
    return true;
  };

  const id = await startQuery(athena, query, timing.maxStartAttempts ?? 5, pause);
  let lastState = 'QUEUED';
  for (;;) {
    try {
      const answer = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const status = answer.QueryExecution?.Status;
      lastState = status?.State ?? lastState;
      if (lastState === QueryExecutionState.SUCCEEDED) return id;
      if (FINAL_FAILURES.includes(lastState)) {
        const reason = status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage ?? 'no reason given';
        throw new AthenaQueryFailedError(id, lastState, reason);
      }
    } catch (error) {
      if (!isThrottled(error)) throw error;
    }
    if (!(await pause())) break;
  }
  await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
  throw new AthenaQueryTimeoutError(
    `Athena query ${id} was still ${lastState} after ${Math.round(timing.timeoutMillis / 1000)} s; it was asked to stop`,
  );
}

async function startQuery(
  athena: AthenaClient,
  query: AthenaQuery,
  maxAttempts: number,
  pause: () => Promise<boolean>,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await athena.send(
        new StartQueryExecutionCommand({
          QueryString: query.sql,
          WorkGroup: query.workGroup,
          QueryExecutionContext: { Database: query.database },
          ClientRequestToken: query.clientRequestToken,
        }),
      );
      if (!answer.QueryExecutionId) throw new Error('StartQueryExecution returned no QueryExecutionId');
      return answer.QueryExecutionId;
    } catch (error) {
      if (!isThrottled(error) || attempt >= maxAttempts || !(await pause())) throw error;
    }
  }
}

/** Where the compacted table is and how to query it. */
export interface CompactedWindowSource {
  readonly athena: AthenaClient;
  readonly s3: S3Client;
  /** The data-lake bucket (the UNLOAD output and the workgroup's results are under athena-results/). */
  readonly bucket: string;
  readonly workGroup: string;
  readonly database: string;
  readonly table: string;
  readonly plan: Omit<WindowSamplePlan, 'minBuildsPerProject'>;
  readonly timing: AthenaTiming;
}

/**
 * UNLOADs the window's sample from `fromDate` to `athena-results/unload/<runId>/` and reads it back.
 * `runId` must be new for every run (UNLOAD refuses a prefix that holds data); it is also the query's
 * idempotency token.
 */
export async function readCompactedWindowSample(
  source: CompactedWindowSource,
  fromDate: string,
  minBuildsPerProject: number,
  runId: string,
): Promise<WindowSample> {
  const prefix = unloadPrefix(runId);
  const sql = athenaUnloadSampleSql(
    `${source.database}.${source.table}`,
    fromDate,
    { ...source.plan, minBuildsPerProject },
    `s3://${source.bucket}/${prefix}`,
  );
  await runAthenaQuery(
    source.athena,
    {
      sql,
      workGroup: source.workGroup,
      database: source.database,
      clientRequestToken: runId.padEnd(32, '0'),
    },
    source.timing,
  );
  return readUnloadedSample(source.s3, source.bucket, prefix, minBuildsPerProject);
}
