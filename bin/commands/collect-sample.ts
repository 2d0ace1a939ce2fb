import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';

import { Command } from 'commander';

import { BuildMetric, CollectionOutcome, collectEvent } from '../../core/collection/collector';
import { packageRoot } from '../../lib/package-root';
import { FileDataLake } from '../../local/file-data-lake';
import { readRecordedCodeBuild, recordedCodeBuildPorts } from '../../local/recorded-codebuild';

const SAMPLE_DIR = path.join(packageRoot(), 'sample');

interface CollectSampleOptions {
  readonly events: string;
  readonly codebuild: string;
  readonly out: string;
}

/**
 * `pipemend collect-sample`: runs the collector's own code on bundled EventBridge events, with CodeBuild
 * and CloudWatch answered from a recording and the data lake in a local directory.
 */
export function registerCollectSampleCommand(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  program
    .command('collect-sample')
    .description('Run the build collection on the bundled sample events into a local data lake')
    .option('--events <dir>', 'directory of EventBridge event JSON files', path.join(SAMPLE_DIR, 'events'))
    .option(
      '--codebuild <file>',
      'recorded BatchGetBuilds/BatchGetReports/GetMetricData answers',
      path.join(SAMPLE_DIR, 'codebuild.json'),
    )
    .option('--out <dir>', 'the local data-lake directory', path.join('out', 'data-lake'))
    .action(async (options: CollectSampleOptions) => {
      const store = new FileDataLake(options.out);
      const recorded = await readRecordedCodeBuild(options.codebuild);
      const files = (await readdir(options.events)).filter((file) => file.endsWith('.json')).sort();
      if (files.length === 0) throw new Error(`no .json event files in ${options.events}`);
      write(`Collecting ${files.length} sample events into ${store.root}\n\n`);
      for (const file of files) {
        const event = await readEvent(path.join(options.events, file));
        const published: string[] = [];
        const outcome = await collectEvent(event, {
          ...recordedCodeBuildPorts(recorded),
          store,
          emitMetrics: (projectName, metrics) => published.push(formatMetrics(projectName, metrics)),
        });
        write(`${file}\n${describe(outcome)}${published.map((line) => `  metrics  ${line}\n`).join('')}\n`);
      }
      const keys = [...(await store.list('builds/')), ...(await store.list('features/'))];
      write(
        `The data lake now holds ${keys.length} build objects:\n${keys.map((key) => `  ${key}\n`).join('')}`,
      );
    });
}

async function readEvent(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    // A file that is not JSON is still handed to the collector, which rejects it with its reason.
    return `unreadable event file ${file}: ${(error as Error).message}`;
  }
}

function describe(outcome: CollectionOutcome): string {
  switch (outcome.status) {
    case 'stored': {
      const { record } = outcome;
      const missing = Object.entries(record.missing)
        .filter(([, absent]) => absent)
        .map(([name]) => name);
      const pipeline = record.pipeline
        ? ` pipeline ${[record.pipeline.pipelineName, record.pipeline.stageName, record.pipeline.actionName].filter(Boolean).join('/')}`
        : '';
      return (
        `  stored   ${record.projectName} #${record.buildNumber ?? '?'} ${record.status} in ${record.durationSeconds}s${pipeline}` +
        `${missing.length > 0 ? ` (missing: ${missing.join(', ')})` : ''}\n` +
        `           ${outcome.recordKey}\n           ${outcome.featuresKey}\n` +
        (outcome.transitionKey ? `           ${outcome.transitionKey}\n` : '')
      );
    }
    case 'recorded':
      return `  recorded ${outcome.transitionKey}\n`;
    case 'ignored':
      return `  ignored  ${outcome.reason}\n`;
    case 'rejected':
      return `  rejected ${outcome.reason} (RejectedEvents +1)\n`;
  }
}

function formatMetrics(projectName: string, metrics: readonly BuildMetric[]): string {
  const values = metrics.map(
    (metric) => `${metric.name}=${Math.round(metric.value * 100) / 100}${unitSuffix(metric.unit)}`,
  );
  return `Pipemend ProjectName=${projectName}: ${values.join(' ')}`;
}

function unitSuffix(unit: BuildMetric['unit']): string {
  return unit === 'Seconds' ? 's' : unit === 'Percent' ? '%' : '';
}
