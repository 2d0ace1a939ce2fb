/**
 * Remediation benchmark.
 *
 * 1. Environment-fault signatures on real CI logs (../shared/data/ci-logs, the CiDiff breakage dataset):
 *    how many failing logs carry a signature, how many of those flagged lines are the labelled error
 *    lines (the breakage itself), how many passing logs of the same projects carry one (noise a rerun
 *    decision must tolerate), and the scan speed.
 * 2. A storm through the synthesized state machine run locally: 1,000 consecutive failing builds of one
 *    project in enforce mode, every rerun failing: executions per second, actions taken, escalations.
 *
 *   npm run bench:remediation
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { sharedDataPath } from './shared-data';
import { findEnvironmentFaults } from '../core/logs/environment-faults';
import { DEFAULT_GUARD_LIMITS } from '../core/remediation/guards';
import { createLocalRemediation } from '../local/remediation-local-handlers';
import {
  LocalTaskError,
  RemediationRunner,
  remediationDefinition,
  synthesizePipemendTemplate,
} from '../local/remediation-runner';
import { FakeCi, failedBuildEvent } from '../test/local/remediation-fixtures';

const DATA_DIR = sharedDataPath('ci-logs');

/** Labelled error and context lines of a `groundtruth` file (`E a-b`, `E n`, `C ...`, 1-based). */
function labelledLines(text: string): Set<number> {
  const labelled = new Set<number>();
  for (const entry of text.split(/\r?\n/).slice(1)) {
    const match = /^[EC]\s+(\d+)(?:-(\d+))?\s*$/.exec(entry.trim());
    if (!match) continue;
    for (let line = Number(match[1]); line <= Number(match[2] ?? match[1]); line += 1) labelled.add(line);
  }
  return labelled;
}

function signatureBenchmark(): void {
  if (!existsSync(DATA_DIR)) {
    process.stdout.write(`Skipping the signature benchmark: ${DATA_DIR} is absent.\n`);
    return;
  }
  let failing = 0;
  let failingFlagged = 0;
  let flaggedOnErrorLines = 0;
  let passing = 0;
  let passingFlagged = 0;
  let lines = 0;
  let scanMs = 0;
  const kinds = new Map<string, number>();
  for (const name of readdirSync(DATA_DIR).sort()) {
    const dir = path.join(DATA_DIR, name);
    const failLog = path.join(dir, 'fail.log');
    if (!existsSync(failLog)) continue;
    const failLines = readFileSync(failLog, 'utf8').split(/\r?\n/);
    const labelled = labelledLines(readFileSync(path.join(dir, 'groundtruth'), 'utf8'));
    const started = performance.now();
    const matches = findEnvironmentFaults(failLines);
    scanMs += performance.now() - started;
    lines += failLines.length;
    failing += 1;
    if (matches.length > 0) failingFlagged += 1;
    if (matches.some((match) => labelled.has(match.lineNumber))) flaggedOnErrorLines += 1;
    for (const match of matches) kinds.set(match.kind, (kinds.get(match.kind) ?? 0) + 1);
    const passLog = path.join(dir, 'pass.log');
    if (existsSync(passLog)) {
      passing += 1;
      if (findEnvironmentFaults(readFileSync(passLog, 'utf8').split(/\r?\n/)).length > 0) passingFlagged += 1;
    }
  }
  const kindList = [...kinds.entries()].map(([kind, count]) => `${kind} ${count}`).join(', ') || 'none';
  process.stdout.write(
    [
      `Environment-fault signatures on ${failing} real failing CI logs (${lines} lines):`,
      `  failing logs with a signature: ${failingFlagged}/${failing}; of those, signature on a labelled error line: ${flaggedOnErrorLines}`,
      `  passing logs with a signature: ${passingFlagged}/${passing}`,
      `  matched lines by kind: ${kindList}`,
      `  scan speed: ${Math.round(lines / (scanMs / 1000)).toLocaleString('en')} lines/s`,
      '',
    ].join('\n'),
  );
}

async function stormBenchmark(): Promise<void> {
  const definition = remediationDefinition(synthesizePipemendTemplate({}));
  const ci = new FakeCi();
  let clock = Date.parse('2026-11-21T12:00:00Z');
  let actions = 0;
  const local = createLocalRemediation({
    classifyPorts: ci,
    limits: DEFAULT_GUARD_LIMITS,
    defaultMode: 'enforce',
    now: () => new Date(clock),
    actions: {
      startBuild: () => {
        actions += 1;
        return Promise.reject(new LocalTaskError('States.TaskFailed', 'rerun FAILED'));
      },
      retryStageExecution: () => Promise.reject(new Error('not in this storm')),
      rollbackStage: () => Promise.reject(new Error('not in this storm')),
      publish: () => Promise.resolve({ MessageId: 'm' }),
      requestApproval: () => Promise.reject(new Error('not in this storm')),
      pipelineTarget: () => Promise.reject(new Error('not in this storm')),
    },
  });
  const runner = new RemediationRunner(definition, local.handlers);
  const builds = 1000;
  for (let index = 0; index < builds; index += 1)
    ci.addFailedBuild(`app-build:storm-${index}`, { revision: `rev-${index}` });
  const started = performance.now();
  for (let index = 0; index < builds; index += 1) {
    clock += 2000;
    await runner.run(failedBuildEvent(`storm-${index}`, `app-build:storm-${index}`));
  }
  const seconds = (performance.now() - started) / 1000;
  const escalations = local.records.filter((record) => record.status === 'ESCALATED').length;
  process.stdout.write(
    [
      `Storm: ${builds} failing builds of one project through the synthesized state machine (enforce, reruns fail):`,
      `  ${Math.round(builds / seconds)} executions/s; automatic actions ${actions} (budget ${DEFAULT_GUARD_LIMITS.maxActionsPerWindow}/h), escalations ${escalations}, records ${local.records.length}`,
      '',
    ].join('\n'),
  );
}

signatureBenchmark();
void stormBenchmark();
