import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { RecordedCodeBuild } from '../../local/recorded-codebuild';

export const SAMPLE_DIR = path.join(__dirname, '..', '..', 'sample');

/** A bundled sample event by file name (without `.json`), as a fresh mutable copy. */
export function sampleEvent(name: string): Record<string, unknown> & { detail: Record<string, unknown> } {
  return JSON.parse(readFileSync(path.join(SAMPLE_DIR, 'events', `${name}.json`), 'utf8'));
}

export function sampleEventNames(): string[] {
  return readdirSync(path.join(SAMPLE_DIR, 'events'))
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** The recorded BatchGetBuilds / BatchGetReports / GetMetricData answers of the sample builds. */
export function sampleCodeBuild(): RecordedCodeBuild {
  return JSON.parse(readFileSync(path.join(SAMPLE_DIR, 'codebuild.json'), 'utf8'));
}
