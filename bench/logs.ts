/**
 * Log-understanding benchmark on three kinds of real CI logs, each beside baselines computed here on
 * the same cases:
 *
 * - LogChunks (../shared/data/logchunks, Travis CI logs of many languages, each with its hand-labelled
 *   failure chunk, no passing log): hit rate at budgets 50 and 20 (a case is hit when a line of its
 *   labelled `E` chunk is in the excerpt) and precision (excerpt lines inside `E` or `C` ranges).
 * - CiDiff (../shared/data/ci-logs, with passing logs): coverage and precision as bench/excerpt.ts
 *   defines them.
 * - Veloren (../shared/data/ci-failures/veloren, failed GitLab jobs labelled flaky or not): precision,
 *   recall and F1 of classify's RERUN_CLEAN decision against the rerun label and the human label, from
 *   the log alone (GitLab's section markers included, as the log has them), the log without those
 *   markers (only its error lines speak), and with the failed phase a CodeBuild build record would hold
 *   (bench/gitlab-trace.ts),
 *   and the share of real failures (human label) that would be rerun.
 *
 *   npx tsx bench/logs.ts [--verbose] [--only logchunks,cidiff,veloren]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

import { correctedGroundTruth, evaluate, parseGroundTruth } from './excerpt';
import { adaptGitLabTrace } from './gitlab-trace';
import { sharedDataPath } from './shared-data';
import { selectFailureExcerpt, splitLogLines } from '../core/logs/log-excerpt';
import { BuildFacts, classify, ClassifyPorts } from '../lambda/classify/classify';

const COMMAND = 'npx tsx bench/logs.ts';
const verbose = process.argv.includes('--verbose');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? (process.argv[onlyIndex + 1] ?? '').split(',') : undefined;
const wanted = (part: string): boolean => only === undefined || only.includes(part);

type Selector = (log: string, budget: number) => number[];

/** The last `budget` lines. */
const tail: Selector = (log, budget) => {
  const count = splitLogLines(log).length;
  const take = Math.min(budget, count);
  return Array.from({ length: take }, (_, i) => count - take + i + 1);
};

const KEYWORD = /error|fail|exception|fatal|cannot|could not|denied|timed? ?out/i;

/** From the end backwards, lines with an error keyword and the two lines after each, until `budget`. */
const keywordTail: Selector = (log, budget) => {
  const lines = splitLogLines(log);
  const picked = new Set<number>();
  for (let index = lines.length - 1; index >= 0 && picked.size < budget; index -= 1) {
    if (!KEYWORD.test(lines[index]!)) continue;
    for (let offset = 0; offset <= 2 && picked.size < budget; offset += 1) {
      if (index + offset < lines.length) picked.add(index + offset + 1);
    }
  }
  return [...picked].sort((a, b) => a - b);
};

const pipemend: Selector = (log, budget) => selectFailureExcerpt(log, undefined, { budget }).lines;

const SELECTORS: Record<string, Selector> = {
  pipemend,
  'last N lines': tail,
  'keyword-tail': keywordTail,
};

function pct(part: number, whole: number): string {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}%`;
}

function caseDirs(dir: string, files: string[]): string[] {
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .filter((name) => files.every((file) => existsSync(path.join(dir, name, file))))
    .sort();
}

function logChunks(): void {
  const dir = sharedDataPath('logchunks');
  if (!existsSync(dir)) {
    console.log(`LogChunks skipped: ${dir} not found\n`);
    return;
  }
  const cases = caseDirs(dir, ['fail.log', 'groundtruth']);
  const data = cases.map((name) => ({
    name,
    log: readFileSync(path.join(dir, name, 'fail.log'), 'utf8'),
    truth: parseGroundTruth(readFileSync(path.join(dir, name, 'groundtruth'), 'utf8')),
  }));
  console.log(
    `LogChunks: ${cases.length} cases from ${dir} (hit: a line of the labelled chunk in the excerpt)`,
  );
  console.log(
    'selector          budget   cases hit         within 5 lines    precision   lines/case   ms/case',
  );
  for (const budget of [50, 20]) {
    for (const [selectorName, select] of Object.entries(SELECTORS)) {
      let hit = 0;
      let near = 0;
      let lines = 0;
      let inside = 0;
      let millis = 0;
      const misses: string[] = [];
      for (const { name, log, truth } of data) {
        const started = performance.now();
        const selected = select(log, budget);
        millis += performance.now() - started;
        const result = evaluate(selected, truth);
        hit += result.covered ? 1 : 0;
        lines += selected.length;
        inside += selected.filter((line) => truth.labelled.has(line)).length;
        const block = truth.errorBlocks[0];
        const isNear =
          block !== undefined && selected.some((line) => line >= block.start - 5 && line <= block.end + 5);
        near += isNear ? 1 : 0;
        if (!result.covered) misses.push(`${name} E ${block?.start}-${block?.end}`);
      }
      console.log(
        `${selectorName.padEnd(17)} ${String(budget).padStart(6)}   ${`${hit}/${data.length} ${pct(hit, data.length)}`.padEnd(17)} ${pct(near, data.length).padEnd(17)} ${(inside / Math.max(lines, 1)).toFixed(2).padStart(9)}   ${(lines / data.length).toFixed(1).padStart(10)}   ${(millis / data.length).toFixed(1).padStart(7)}`,
      );
      if (verbose && selectorName === 'pipemend')
        for (const miss of misses) console.log(`    missed ${miss}`);
    }
  }
  let small = 0;
  let unmatched = 0;
  for (const { log } of data) {
    const excerpt = selectFailureExcerpt(log);
    if (excerpt.lines.length <= 3) small += 1;
    if (excerpt.matches.length === 0) unmatched += 1;
  }
  console.log(
    `pipemend at 50 lines: ${small}/${data.length} excerpts of 3 lines or fewer; ${unmatched}/${data.length} (${pct(unmatched, data.length)}) with no error signature in the excerpt`,
  );
  console.log('');
}

function ciDiff(): void {
  const dir = sharedDataPath('ci-logs');
  if (!existsSync(dir)) {
    console.log(`CiDiff skipped: ${dir} not found\n`);
    return;
  }
  const cases = caseDirs(dir, ['fail.log', 'pass.log', 'groundtruth']);
  let covered = 0;
  let coveredCorrected = 0;
  let precisionSum = 0;
  const missed: string[] = [];
  for (const name of cases) {
    const read = (file: string): string => readFileSync(path.join(dir, name, file), 'utf8');
    const selected = selectFailureExcerpt(read('fail.log'), read('pass.log')).lines;
    const text = read('groundtruth');
    const result = evaluate(selected, parseGroundTruth(text));
    covered += result.covered ? 1 : 0;
    precisionSum += result.precision;
    const corrected = evaluate(selected, parseGroundTruth(correctedGroundTruth(name, text)));
    coveredCorrected += corrected.covered ? 1 : 0;
    if (!result.covered) missed.push(name);
  }
  console.log(
    `CiDiff (${dir}, budget 50, with passing logs): ${covered}/${cases.length} covered (${coveredCorrected}/${cases.length} with bench/excerpt.ts's documented label correction), mean precision ${(precisionSum / cases.length).toFixed(2)}${missed.length > 0 ? `; missed: ${missed.join(', ')}` : ''}\n`,
  );
}

interface Scores {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

function f1Line(label: string, s: Scores): string {
  const precision = s.tp + s.fp === 0 ? 0 : s.tp / (s.tp + s.fp);
  const recall = s.tp + s.fn === 0 ? 0 : s.tp / (s.tp + s.fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return `${label.padEnd(14)} precision ${(100 * precision).toFixed(1).padStart(5)}  recall ${(100 * recall).toFixed(1).padStart(5)}  F1 ${(100 * f1).toFixed(1).padStart(5)}`;
}

function score(predicted: boolean[], truth: boolean[]): Scores {
  const s = { tp: 0, fp: 0, fn: 0, tn: 0 };
  predicted.forEach((p, i) => {
    const t = truth[i]!;
    if (p && t) s.tp += 1;
    else if (p) s.fp += 1;
    else if (t) s.fn += 1;
    else s.tn += 1;
  });
  return s;
}

/** classify() on one job, with ports that serve the adapted trace as a CodeBuild build would. */
// GitLab's markers end with an ANSI erase-line code.
// eslint-disable-next-line no-control-regex
const GITLAB_MARKER = /section_(?:start|end):\d+:[\w.-]+\r?(?:\x1b\[0K)?/g;

type Mode = 'log alone' | 'log, no markers' | 'with failed phase';

async function rerunDecision(
  jobId: string,
  jobName: string,
  trace: string,
  mode: Mode,
): Promise<{ rerun: boolean; reasons: readonly string[] }> {
  const withPhase = mode === 'with failed phase';
  const job = adaptGitLabTrace(trace);
  // Without GitLab's markers the log says nothing of its steps: only its error lines remain.
  const lines =
    mode === 'log, no markers' ? job.lines.map((line) => line.replace(GITLAB_MARKER, '')) : job.lines;
  const build: BuildFacts = {
    buildId: `${jobName}:${jobId}`,
    projectName: jobName,
    status: job.status,
    ...(withPhase ? { failedPhase: job.failedPhase } : {}),
    environmentVariables: [],
    logs: { groupName: '/gitlab/veloren', streamName: jobId },
    reportArns: [],
  };
  const ports: ClassifyPorts = {
    getBuild: async () => build,
    testResults: async () => [],
    // The classify Lambda reads the last 500 lines of the build log (aws-ports.ts).
    logTail: async () => lines.slice(-500),
    recentTestRuns: async () => [],
    recordTestRun: async () => undefined,
    failedBuildOfStage: async () => undefined,
    latestStageExecution: async () => undefined,
    alarm: async () => undefined,
  };
  const classification = await classify(
    {
      kind: 'build',
      eventId: jobId,
      buildId: build.buildId,
      projectName: jobName,
      status: job.status,
      origin: { initiator: 'gitlab-ci' },
    },
    ports,
    { ownInitiatorPrefixes: ['Pipemend-'], healthAlarms: [], now: () => new Date(0) },
  );
  return {
    rerun: classification.decision.action === 'RERUN_CLEAN',
    reasons: classification.decision.reasons,
  };
}

async function veloren(): Promise<void> {
  const dir = sharedDataPath('ci-failures', 'veloren');
  if (!existsSync(dir)) {
    console.log(`Veloren skipped: ${dir} not found\n`);
    return;
  }
  const [header, ...rows] = readFileSync(path.join(dir, 'labels.csv'), 'utf8').trim().split(/\r?\n/);
  const columns = header!.split(',');
  const jobs = rows.map((row) => {
    const cells = row.split(',');
    const get = (name: string): string => cells[columns.indexOf(name)] ?? '';
    return {
      id: get('job_id'),
      name: get('job_name'),
      rerunFlaky: get('rerun_flaky') === '1',
      manualFlaky: get('manual_flaky') === '1',
      reason: get('manual_reason'),
    };
  });
  console.log(
    `Veloren: ${jobs.length} failed GitLab jobs from ${dir}; RERUN_CLEAN of classify (last 500 log lines, no test reports)`,
  );
  const rerunTruth = jobs.map((job) => job.rerunFlaky);
  const manualTruth = jobs.map((job) => job.manualFlaky);
  const always = jobs.map(() => true);
  console.log(`  ${'always rerun'.padEnd(17)}: ${f1Line('rerun label', score(always, rerunTruth))}`);
  console.log(`  ${''.padEnd(17)}  ${f1Line('human label', score(always, manualTruth))}`);
  for (const mode of ['log alone', 'log, no markers', 'with failed phase'] as const) {
    const predicted: boolean[] = [];
    const details: string[] = [];
    for (const job of jobs) {
      const trace = readFileSync(path.join(dir, 'logs', `${job.id}.log`), 'utf8');
      const decision = await rerunDecision(job.id, job.name, trace, mode);
      predicted.push(decision.rerun);
      if (verbose && decision.rerun !== job.manualFlaky) {
        details.push(
          `    ${decision.rerun ? 'FP' : 'FN'} ${job.id} ${job.name} ${job.reason} :: ${decision.reasons.join(' ').slice(0, 300)}`,
        );
      }
    }
    const manual = score(predicted, manualTruth);
    const realRerun = manual.fp / Math.max(manual.fp + manual.tn, 1);
    console.log(`  ${mode.padEnd(17)}: ${f1Line('rerun label', score(predicted, rerunTruth))}`);
    console.log(`  ${''.padEnd(17)}  ${f1Line('human label', manual)}`);
    console.log(
      `  ${''.padEnd(17)}  real failures (human label) wrongly rerun: ${manual.fp}/${manual.fp + manual.tn} (${(100 * realRerun).toFixed(1)}%)`,
    );
    for (const line of details) console.log(line);
  }
  console.log('');
}

async function main(): Promise<void> {
  console.log(
    `$ ${COMMAND}${process.argv
      .slice(2)
      .map((arg) => ` ${arg}`)
      .join('')}\n`,
  );
  if (wanted('logchunks')) logChunks();
  if (wanted('cidiff')) ciDiff();
  if (wanted('veloren')) await veloren();
}

void main();
