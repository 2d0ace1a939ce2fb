/**
 * Collection throughput: the collector's own code (`collectEvent`: zod validation, BuildRecord mapping,
 * feature row, two data-lake writes) on synthetic CodeBuild events derived from the bundled sample, with
 * CodeBuild/CloudWatch answered from memory, into (a) an in-memory store and (b) the local file data lake.
 * It measures Pipemend's per-event CPU cost, not AWS latency.
 *
 *   npm run bench:collect [-- --events 5000]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

import { CodeBuildBuild } from '../core/collection/codebuild-build';
import { collectEvent, CollectorPorts, DataLakeStore } from '../core/collection/collector';
import { FileDataLake } from '../local/file-data-lake';
import { RecordedCodeBuild, recordedCodeBuildPorts } from '../local/recorded-codebuild';

const SAMPLE = path.resolve(__dirname, '..', 'sample');

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

/** `count` distinct finished builds (ids, numbers, start times, durations vary) and their events. */
function syntheticHistory(count: number): { recorded: RecordedCodeBuild; events: unknown[] } {
  const sample = JSON.parse(readFileSync(path.join(SAMPLE, 'codebuild.json'), 'utf8')) as RecordedCodeBuild;
  const eventTemplate = JSON.parse(
    readFileSync(path.join(SAMPLE, 'events', '01-codebuild-succeeded.json'), 'utf8'),
  ) as { detail: Record<string, unknown> };
  const builds: CodeBuildBuild[] = [];
  const metrics: Record<string, RecordedCodeBuild['metrics'][string]> = {};
  const events: unknown[] = [];
  for (let index = 0; index < count; index += 1) {
    const template = sample.builds[index % 2]!;
    const id = `${template.projectName}:${index.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
    const arn = `arn:aws:codebuild:eu-west-1:123456789012:build/${id}`;
    const start = Date.parse('2026-08-01T00:00:00Z') + index * 600_000;
    const seconds = 200 + ((index * 37) % 400);
    builds.push({
      ...template,
      id,
      arn,
      buildNumber: index,
      startTime: new Date(start),
      endTime: new Date(start + seconds * 1000),
    });
    metrics[id] = sample.metrics[template.id!] ?? {};
    events.push({
      ...eventTemplate,
      id: `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
      detail: { ...eventTemplate.detail, 'build-id': arn, 'project-name': template.projectName },
    });
  }
  return { recorded: { builds, reports: sample.reports, metrics }, events };
}

class MemoryStore implements DataLakeStore {
  readonly objects = new Map<string, string>();
  async put(key: string, body: string): Promise<void> {
    this.objects.set(key, body);
  }
  async get(key: string): Promise<string | undefined> {
    return this.objects.get(key);
  }
}

async function measure(label: string, events: unknown[], ports: CollectorPorts): Promise<void> {
  const latencies: number[] = [];
  const started = performance.now();
  for (const event of events) {
    const before = performance.now();
    const outcome = await collectEvent(event, ports);
    latencies.push(performance.now() - before);
    if (outcome.status !== 'stored')
      throw new Error(`expected a stored build, got ${JSON.stringify(outcome)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  console.log(
    `| ${label.padEnd(22)} | ${String(events.length).padStart(6)} | ${(events.length / seconds).toFixed(0).padStart(8)} | ${percentile(0.5).toFixed(3).padStart(8)} | ${percentile(0.99).toFixed(3).padStart(8)} |`,
  );
}

async function main(): Promise<void> {
  const count = argument('events', 5000);
  const { recorded, events } = syntheticHistory(count);
  const codeBuild = recordedCodeBuildPorts(recorded);
  console.log(`collectEvent on ${count} synthetic CodeBuild events (Node.js ${process.version})\n`);
  console.log('| store                  | events | events/s | p50 (ms) | p99 (ms) |');
  console.log('| ---------------------- | ------ | -------- | -------- | -------- |');
  await measure('in memory', events, {
    ...codeBuild,
    store: new MemoryStore(),
    emitMetrics: () => undefined,
  });
  const directory = mkdtempSync(path.join(tmpdir(), 'pipemend-bench-collect-'));
  try {
    await measure('local file data lake', events, {
      ...codeBuild,
      store: new FileDataLake(directory),
      emitMetrics: () => undefined,
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
