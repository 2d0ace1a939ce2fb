/**
 * The replay's report: one self-contained HTML file (the echarts library inlined, the run's data embedded
 * as JSON) with the anomaly score of every project over time against its threshold, incidents and actions
 * marked; detection against the labels; what remediation did and saved; recovery times with and without
 * Pipemend; the suggestions; and the monthly cost estimate. Every figure comes from the replay.
 */
import { readFile } from 'node:fs/promises';

import type { ReplayedBuild, ReplayResult } from '../replay';
import { formatBuildRate } from './metrics';
import type { FlakyTestSummary, IncidentOutcome, ReportMetrics } from './metrics';

/** The echarts build the report inlines (Apache ECharts, a maintained charting library). */
export async function readEchartsSource(): Promise<string> {
  return readFile(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
}

/** What each final status of a remediation means, for the report's readers. */
export const STATUS_MEANINGS: Readonly<Record<string, string>> = {
  SUCCEEDED: 'the action ran and what it started (a rerun, a stage retry, a rollback) passed',
  FAILED: 'the action ran and what it started failed too',
  SHADOWED: 'shadow mode: the decision was recorded and nothing was done',
  SUGGESTED: 'suggest mode: the action was proposed to a human and not taken',
  NOTIFIED: 'the decision was to tell the team; a notification was sent',
  ESCALATED: 'handed to a human (a budget, the circuit breaker, or an action that does not apply here)',
  SUPPRESSED: 'the guard suppressed it (e.g. a repeat inside the quiet window); nothing was sent',
  DENIED: 'the approver refused the rollback',
  APPROVAL_TIMED_OUT: 'nobody answered the approval request in time',
  NOT_RECORDED:
    'no decision record: the guard found nothing to do (a normal build, action NONE) or the event was already handled',
};

/** A count with its noun, singular or plural: `1 rerun`, `2 reruns`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : pluralForm}`;
}

/** The data the page's script draws from: compact, and only what the charts need. */
export function reportData(result: ReplayResult, metrics: ReportMetrics): unknown {
  const projects = [...new Set(result.builds.map((b) => b.projectName))].sort();
  // Incidents are numbered by start across the whole report: the charts show the number, the keys the name.
  const numbered = [...metrics.incidents].sort((a, b) => a.start.localeCompare(b.start));
  const numberOf = new Map(numbered.map((i, index) => [i.id, index + 1]));
  return {
    source: result.source,
    start: Date.parse(result.start),
    end: Date.parse(result.end),
    remediation: metrics.remediation.ran,
    projects: projects.map((projectName) => {
      const builds = result.builds.filter((b) => b.projectName === projectName);
      return {
        projectName,
        points: builds.map((b) => [
          Date.parse(b.endTime),
          // A build scored before there was any history to score against has no threshold: not drawn.
          b.threshold > 0 ? round(b.score / b.threshold) : null,
          b.anomalous ? 1 : 0,
          b.status === 'SUCCEEDED' ? 1 : 0,
          b.scorer,
          b.truth?.remediation ?? '',
        ]),
        actions: builds
          .filter((b) => b.remediation && b.remediation.action !== 'NONE' && b.threshold > 0)
          .map((b) => [
            Date.parse(b.endTime),
            round(b.score / b.threshold),
            b.remediation!.action,
            b.remediation!.status,
          ]),
        incidents: incidentsOf(metrics, builds).map((i) => [
          numberOf.get(i.id)!,
          i.id,
          i.kind,
          Date.parse(i.start),
          result.incidents.find((t) => t.spec.id === i.id)!.manualRecoveryAt.getTime(),
        ]),
      };
    }),
    trainings: result.trainings.map((t) => [
      Date.parse(t.at),
      round(t.threshold),
      t.trainingRows,
      t.promoted,
    ]),
  };
}

/**
 * The incidents to shade on one project's chart: those with a labelled build of the project (standalone
 * projects included), and those of its pipeline at its stage (a bad deployment on the deploy stage, the
 * others on the build stage), which shade a project even before its first labelled build.
 */
function incidentsOf(metrics: ReportMetrics, builds: readonly ReplayedBuild[]): IncidentOutcome[] {
  const labelled = new Set(
    builds.flatMap((b) => (b.truth?.incidentId && !b.truth.remediation ? [b.truth.incidentId] : [])),
  );
  const pipeline = builds.find((b) => b.pipelineName)?.pipelineName;
  const deployStage = builds.find((b) => b.stageName)?.stageName === 'Deploy';
  return metrics.incidents.filter(
    (i) =>
      labelled.has(i.id) ||
      (pipeline !== undefined && i.pipeline === pipeline && (i.kind === 'bad_deploy') === deployStage),
  );
}

export function renderReport(result: ReplayResult, metrics: ReportMetrics, echartsSource: string): string {
  const data = JSON.stringify({ ...(reportData(result, metrics) as object), metrics }).replace(
    /</g,
    '\\u003c',
  );
  const d = metrics.detection;
  const r = metrics.remediation;
  const labels = d.unknownBecause === null;
  const simulated = result.source === 'simulation';
  const missing =
    result.missingStages.length > 0
      ? `<div class="missing"><strong>Not part of this run:</strong><ul>${result.missingStages.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul></div>`
      : '';
  const incidentRows = metrics.incidents
    .map(
      (
        i,
      ) => `<tr><td>${escapeHtml(i.id)}</td><td>${escapeHtml(i.kind)}</td><td>${i.labelledBuilds}</td><td>${i.detected ? 'yes' : 'no'}</td>
<td>${hours(i.hoursToDetect)}</td><td>${escapeHtml(countedList(i.actions) || '—')}</td><td>${hours(i.hoursToRecoverManually)}</td><td>${hours(i.hoursToRecover)}</td><td>${escapeHtml(i.recoveredBy ?? '—')}</td></tr>`,
    )
    .join('\n');
  const costRows = metrics.cost.lines
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.service)}</td><td>${escapeHtml(l.usage)}</td><td class="num">$${l.monthlyUsd.toFixed(2)}</td></tr>`,
    )
    .join('\n');
  const buildCount =
    metrics.pipemendBuilds > 0
      ? `${plural(metrics.buildsReplayed, 'build')} (${metrics.organicBuilds.toLocaleString('en-US')} from the history, ${metrics.pipemendBuilds.toLocaleString('en-US')} started by Pipemend)`
      : `${plural(metrics.buildsReplayed, 'build')} of the history`;
  const history = simulated
    ? `Simulated pipeline history with ${metrics.incidents.length === 0 ? 'no injected incident' : plural(metrics.incidents.length, 'injected incident')}`
    : 'Your build history (no incident labels)';
  const remediationWording = r.ran
    ? `remediation mode <strong>${escapeHtml(result.mode)}</strong>`
    : 'detection only: <strong>no remediation</strong> in this run';
  const flagged = `${metrics.anomalousBuilds.toLocaleString('en-US')} of ${plural(metrics.organicBuilds, 'history build')}`;
  const unknownWhy = simulated ? (d.unknownBecause ?? '') : 'no incident labels in your history';
  const unknownTile = (key: string) => tile(key, '—', unknownWhy);
  const statuses = Object.keys(r.statuses).sort();
  const glossary = statuses
    .map(
      (status) =>
        `<tr><td><code>${escapeHtml(status)}</code></td><td class="num">${r.statuses[status]}</td><td>${escapeHtml(STATUS_MEANINGS[status] ?? (status.startsWith('EXECUTION_FAILED') ? 'the state machine execution itself failed' : 'recorded by the state machine'))}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pipemend replay report</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 0; color: #1d2433; background: #f5f6f8; }
  header { background: #1d2433; color: #fff; padding: 18px 28px; }
  header h1 { margin: 0 0 4px; font-size: 22px; }
  main { padding: 18px 28px 40px; max-width: 1400px; }
  section { background: #fff; border-radius: 8px; padding: 14px 18px; margin: 16px 0; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  h2 { font-size: 17px; margin: 4px 0 10px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px; }
  .tile { background: #fff; border-radius: 8px; padding: 10px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  .tile .v { font-size: 22px; font-weight: 600; }
  .tile .k { color: #5b6477; font-size: 12px; }
  .tile .why { color: #5b6477; font-size: 11px; font-style: italic; }
  .chart { width: 100%; height: 300px; }
  .grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
  td.num { text-align: right; white-space: nowrap; }
  pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 12px; color: #3b4252; max-width: 520px; }
  details summary { cursor: pointer; color: #1f5fa8; }
  .missing { background: #fff4e5; border: 1px solid #f0b45b; border-radius: 8px; padding: 10px 16px; margin: 16px 0; }
  .note { color: #5b6477; font-size: 12px; }
  .key { color: #5b6477; font-size: 12px; margin: 0 0 14px; }
  .key span { display: inline-block; margin-right: 14px; }
  .key b { display: inline-block; min-width: 16px; padding: 0 3px; border-radius: 3px; background: rgba(255, 170, 0, 0.35); color: #1d2433; text-align: center; }
  @media (max-width: 800px) {
    header { padding: 14px 12px; }
    main { padding: 10px 8px 30px; }
    section { padding: 10px 10px; }
    .grid2 { grid-template-columns: minmax(0, 1fr); }
    .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  }
</style>
</head>
<body>
<header>
  <h1>Pipemend replay</h1>
  <div>${escapeHtml(history)} from ${result.start.slice(0, 10)} to ${result.end.slice(0, 10)} (${plural(Math.round(result.days), 'day')}), ${remediationWording}. Replayed ${buildCount}; the replay took ${(result.wallMs / 1000).toFixed(1)} s (${formatBuildRate(metrics.buildsPerSecond)}).</div>
</header>
<main>
${missing}
<div class="tiles">
  ${tile('Builds replayed', metrics.buildsReplayed.toLocaleString('en-US'), metrics.pipemendBuilds > 0 ? `${metrics.organicBuilds.toLocaleString('en-US')} from the history, ${metrics.pipemendBuilds.toLocaleString('en-US')} started by Pipemend` : 'all from the history')}
  ${tile('Anomalous builds', metrics.anomalousBuilds.toLocaleString('en-US'), `of ${plural(metrics.organicBuilds, 'history build')}`)}
  ${labels ? tile('Detection precision', percent(d.precision), d.precision === null ? 'no build was flagged' : `${d.truePositives} of ${plural(d.truePositives + d.falsePositives, 'flagged build')} in an incident`) : unknownTile('Detection precision')}
  ${labels ? tile('Incidents detected', `${metrics.incidents.filter((i) => i.detected).length} of ${metrics.incidents.length}`, percent(d.incidentRecall)) : unknownTile('Incidents detected')}
  ${r.ran ? tile('Builds saved by reruns', String(r.buildsSavedByReruns), `${plural(r.rerunsFailed, 'rerun')} failed`) : tile('Remediation', '—', 'not part of this run')}
  ${r.ran ? tile('Rollbacks performed', String(r.rollbacksPerformed)) : ''}
  ${labels ? tile('MTTR without Pipemend', hours(metrics.meanHoursToRecoverManually), 'mean, from the first failure') : unknownTile('MTTR without Pipemend')}
  ${labels && r.ran ? tile('MTTR with Pipemend', hours(metrics.meanHoursToRecover), 'mean, in this run') : labels ? '' : unknownTile('MTTR with Pipemend')}
  ${tile('Estimated AWS cost / month', `$${metrics.cost.monthlyUsd.toFixed(2)}`, metrics.cost.notCounted.length > 0 ? `without ${metrics.cost.notCounted.map((s) => s.split(' (')[0]).join(' and ')}: not part of this run` : 'for this workload')}
</div>

<section>
  <h2>Anomaly score over time, per project</h2>
  <p class="note">Score divided by the threshold in force when the build was scored (1 = threshold; the baseline scorer decides until the first model, the embedded Random Cut Forest after), on a log scale. ${
    labels
      ? 'Shaded: injected incidents, numbered by start (the key under each chart names them), from their start to the team’s manual recovery.'
      : simulated
        ? 'No incident was injected in this history, so nothing is shaded.'
        : 'Your history carries no incident labels, so nothing is shaded: red points are what Pipemend would have flagged.'
  }${r.ran ? ' Markers: remediation actions.' : ''} Builds scored before any history existed to compare them with have no threshold and are not drawn.</p>
  <div id="projects"></div>
</section>

${
  labels
    ? `<section id="detection">
  <h2>Detection against the injected labels</h2>
  <p>Precision ${percent(d.precision)} (${d.truePositives} of ${plural(d.truePositives + d.falsePositives, 'flagged build')} belong to an incident; ${d.flakyFlagged} of the others failed a flaky test; ${percent(d.modelPrecision)} over the builds the trained model scored, without the cold-start baseline's verdicts), build recall ${percent(d.buildRecall)} (${d.truePositives} of ${plural(d.truePositives + d.falseNegatives, 'labelled build')} flagged), incident recall ${percent(d.incidentRecall)}, mean time to detect ${hours(d.meanHoursToDetect)}.</p>
  <div class="grid2"><div id="detect" class="chart"></div><div id="mttr" class="chart"></div></div>
  <div class="scroll"><table><thead><tr><th>incident</th><th>kind</th><th>labelled builds</th><th>detected</th><th>time to detect</th><th>remediation</th><th>recovery by hand</th><th>recovery in this run</th><th>recovered by</th></tr></thead>
  <tbody>${incidentRows}</tbody></table></div>
</section>`
    : `<section id="detection">
  <h2>Detection</h2>
  <p>Precision, recall and time to detect: — (${escapeHtml(d.unknownBecause ?? '')}). Pipemend flagged ${flagged} as anomalous; the charts above show which and when.</p>
</section>`
}

<section id="remediation">
  <h2>Remediation</h2>
  ${
    r.ran
      ? `<p class="note">Rollbacks wait for a human's approval, as the deployed stack requires by default; the replay's approver answers with the same delay as the team's manual response, so a rollback recovers about as fast as the team would have.</p>
  <p>${plural(r.buildsSavedByReruns, 'failed build')} turned green by a rerun or stage retry (${plural(r.rerunsFailed, 'rerun')} failed), ${plural(r.rollbacksPerformed, 'rollback')}, ${plural(r.notifications, 'notification')}.${labels ? ` Mean time to recovery ${hours(metrics.meanHoursToRecoverManually)} by hand, ${hours(metrics.meanHoursToRecover)} in this run.` : ''}</p>
  <p>Flaky tests: ${plural(r.flakyTests.flakyFailures, 'failure')} of a flaky test, ${r.flakyTests.rescuedWithoutPage} rescued by a rerun without paging anyone (outcome “rescued by rerun”), ${r.flakyTests.paged} paged; ${plural(r.flakyTests.regressionReruns, 'regression build')} rerun once to tell a flake from a regression (at most ${r.flakyTests.maxRerunsOfOneRegressionRevision} per revision); ${r.flakyTests.brokenTreatedAsFlaky} broken tests treated as flaky. Notifications are grouped by failure fingerprint: ${plural(r.notifications, 'notification')} sent for ${r.grouping.distinctFailuresNotified} of ${plural(r.grouping.distinctFailures, 'distinct failure')}; ${plural(r.grouping.repeatsFolded, 'repeat')} within 24 h counted instead of sent, and summarised in ${plural(r.grouping.digests, 'daily digest')}.</p>
  ${flakyTestsSection(r.flakyTests)}
  <div class="grid2"><div id="actions" class="chart"></div><div class="scroll"><table><thead><tr><th>how it ended</th><th>executions</th><th>meaning</th></tr></thead><tbody>${glossary}</tbody></table></div></div>`
      : `<p>Not part of this run: ${escapeHtml(result.source === 'data' ? 'a --data replay has no CodeBuild to rerun or pipeline to roll back, so nothing was remediated' : 'no remediation stage was configured for this replay')}.</p>`
  }
</section>

<section id="training">
  <h2>Model training</h2>
  ${
    result.trainings.length > 0
      ? `<p class="note">${plural(result.trainings.length, 'model')} trained (weekly after a warm-up), ${result.trainings.filter((t) => t.promoted).length} promoted.</p><div id="trainings" class="chart"></div>`
      : '<p>No model was trained: the history is shorter than the warm-up or holds too few builds, so the baseline scorer decided every build.</p>'
  }
</section>

<section id="suggestions">
  <h2>Fix suggestions</h2>
  ${suggestionsHtml(result, metrics)}
</section>

<section>
  <h2>Estimated monthly AWS cost of the deployed stack for this workload</h2>
  <p class="note">The replay's own counts (events, invocations with their locally measured durations, state transitions, objects and bytes written, custom metrics, notifications) scaled to 30 days, times public us-east-1 list prices (local/report/pricing.ts).${metrics.cost.notCounted.length > 0 ? ` Not counted, because this run did not exercise them: ${escapeHtml(metrics.cost.notCounted.join('; '))}.` : ''} The embedded scorer needs no endpoint; a SageMaker ml.t2.medium endpoint (the default of <code>scorer: 'endpoint'</code>) would add about $${metrics.cost.endpointAlternativeUsd.toFixed(0)} a month.</p>
  <div class="grid2"><div id="cost" class="chart"></div><div class="scroll"><table><thead><tr><th>service</th><th>usage per month</th><th>USD</th></tr></thead><tbody>${costRows}
  <tr><th colspan="2">Total</th><th class="num">$${metrics.cost.monthlyUsd.toFixed(2)}</th></tr></tbody></table></div></div>
</section>
</main>
<script>${echartsSource}</script>
<script type="application/json" id="replay-data">${data}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

/** One row per distinct cause, with its builds behind a <details>. */
function suggestionsHtml(result: ReplayResult, metrics: ReportMetrics): string {
  if (result.missingStages.some((s) => s.includes('suggestions'))) {
    return '<p>Not part of this run: a --data replay has no build logs to read.</p>';
  }
  const groups = metrics.suggestions;
  if (groups.length === 0)
    return '<p>No failed build was handed to the suggester, so there is no suggestion.</p>';
  const total = groups.reduce((n, g) => n + g.count, 0);
  const rows = groups
    .map((g) => {
      const builds = g.builds
        .map(
          (b) =>
            `<tr><td>${escapeHtml(dateTime(b.time))}</td><td>${escapeHtml(b.buildId)}</td><td>${escapeHtml(b.truth)}</td><td>${escapeHtml(b.action)}</td><td class="num">${Math.round(b.confidence * 100)}%</td><td><pre>${escapeHtml(b.evidence)}</pre></td></tr>`,
        )
        .join('');
      return `<tr class="group"><td>${escapeHtml(g.project)}</td><td><strong>${escapeHtml(g.summary)}</strong> (${escapeHtml(g.category)})<br>${escapeHtml(g.fix)}</td><td class="num">${g.count}</td><td>${escapeHtml(dateTime(g.firstSeen))}</td><td>${escapeHtml(dateTime(g.lastSeen))}</td><td class="num">${Math.round(g.meanConfidence * 100)}%</td></tr>
<tr class="builds"><td colspan="6"><details><summary>${plural(g.count, 'build')}${g.redactedSecrets > 0 ? `, ${plural(g.redactedSecrets, 'secret')} redacted` : ''}: when, what really happened, remediation, evidence</summary><div class="scroll"><table><thead><tr><th>build ended</th><th>build</th><th>what really happened</th><th>remediation</th><th>confidence</th><th>evidence (redacted log excerpt)</th></tr></thead><tbody>${builds}</tbody></table></div></details></td></tr>`;
    })
    .join('\n');
  return `<p class="note">${plural(total, 'suggestion')} for ${plural(groups.length, 'distinct cause')} (same project, category and summary), most frequent first.</p>
<div class="scroll"><table><thead><tr><th>project</th><th>suggestion</th><th>builds</th><th>first seen</th><th>last seen</th><th>mean confidence</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** Draws the charts from the embedded data (plain browser JavaScript, run once on load). */
const PAGE_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('replay-data').textContent);
  var m = data.metrics;
  var charts = [];
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  // Dates as people write them ("Aug 2", "Aug 2 14:00"), in UTC like the rest of the report.
  function day(t) { var d = new Date(t); return MONTHS[d.getUTCMonth()] + ' ' + d.getUTCDate(); }
  function dayTime(t) { var d = new Date(t); return day(t) + ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()); }
  function timeLabel(t) { var d = new Date(t); return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? day(t) : dayTime(t); }
  function timeAxis(extra) {
    var axis = { type: 'time', axisLabel: { formatter: timeLabel, hideOverlap: true, fontSize: 11 }, splitNumber: 6 };
    for (var k in extra || {}) axis[k] = extra[k];
    return axis;
  }
  function hoursText(h) { return h === null || h === undefined ? '—' : h < 1 ? Math.round(h * 60) + ' min' : h.toFixed(1) + ' h'; }
  function chart(el, option) { var c = echarts.init(el, null, { renderer: 'canvas' }); c.setOption(option); charts.push(c); return c; }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  var measure = document.createElement('canvas').getContext('2d');
  function textWidth(text, size) { measure.font = size + 'px sans-serif'; return measure.measureText(text).width; }
  var ACTION_STYLE = { RERUN_CLEAN: ['triangle', '#2a9d4b'], ROLLBACK: ['diamond', '#7b3fb8'], NOTIFY: ['pin', '#e08a00'] };
  var GRID = { left: 48, right: 16, top: 36 };
  var container = document.getElementById('projects');
  data.projects.forEach(function (p) {
    var el = document.createElement('div');
    el.className = 'chart';
    el.setAttribute('data-project', p.projectName);
    container.appendChild(el);
    var normal = [], anomalous = [], own = [], lowest = Infinity, highest = 0;
    p.points.forEach(function (pt) {
      if (pt[1] === null) return;
      if (pt[1] > 0) lowest = Math.min(lowest, pt[1]);
      highest = Math.max(highest, pt[1]);
    });
    // The axis starts a decade below the lowest score; a score of exactly 0 sits on that floor, and says so.
    var floor = Math.pow(10, Math.floor(Math.log10(lowest === Infinity ? 0.1 : lowest)));
    var zero = [];
    p.points.forEach(function (pt) {
      if (pt[1] === null) return;
      var point = [pt[0], pt[1] > 0 ? pt[1] : floor, pt[4], pt[3] ? 'passed' : 'failed', pt[1]];
      if (pt[1] <= 0) zero.push(point);
      else if (pt[5]) own.push(point); else if (pt[2]) anomalous.push(point); else normal.push(point);
    });
    // Incident numbers sit at the top of their shading, staggered into rows so that no two overlap.
    var plotWidth = el.clientWidth - GRID.left - GRID.right;
    var px = function (t) { return (t - data.start) / Math.max(data.end - data.start, 1) * plotWidth; };
    var rows = [];
    var areas = p.incidents.slice().sort(function (a, b) { return a[3] - b[3]; }).map(function (i) {
      var left = px(i[3]) + 2, right = left + textWidth(String(i[0]), 10) + 6, row = 0;
      while (row < rows.length && rows[row] > left) row++;
      rows[row] = right;
      return [{ name: String(i[0]), xAxis: i[3], label: { offset: [0, row * 13] }, incident: i }, { xAxis: i[4] }];
    });
    var series = [
      { name: 'build', type: 'scatter', symbolSize: 4, data: normal, itemStyle: { color: '#8a94a6' } },
      { name: 'anomalous build', type: 'scatter', symbolSize: 7, data: anomalous, itemStyle: { color: '#d1342f' } },
      { name: "Pipemend's own build", type: 'scatter', symbolSize: 7, data: own, itemStyle: { color: '#1f77b4' } },
      { name: 'score 0 (drawn on the floor)', type: 'scatter', symbol: 'rect', symbolSize: 5, data: zero, itemStyle: { color: '#444' } },
      { name: 'threshold', type: 'line', showSymbol: false, data: [[data.start, 1], [data.end, 1]],
        lineStyle: { type: 'dashed', color: '#444' },
        markArea: { itemStyle: { color: 'rgba(255, 170, 0, 0.18)' },
          label: { position: 'insideTopLeft', fontSize: 10, distance: 2, color: '#1d2433' },
          tooltip: { formatter: function (x) { var i = x.data.incident; return i ? esc(i[1]) + ' (' + esc(i[2]) + ')<br>' + dayTime(i[3]) + ' – ' + dayTime(i[4]) : ''; } },
          data: areas } }
    ];
    Object.keys(ACTION_STYLE).forEach(function (action) {
      var pts = p.actions.filter(function (a) { return a[2] === action; }).map(function (a) { return [a[0], Math.max(a[1], floor), a[3]]; });
      series.push({ name: action, type: 'scatter', symbol: ACTION_STYLE[action][0], symbolSize: 13, data: pts, itemStyle: { color: ACTION_STYLE[action][1] } });
    });
    // Only the series with something to show take a place in the legend.
    series = series.filter(function (s) { return s.data.length > 0; });
    // The legend wraps on a narrow screen: the plot leaves room for as many rows as it needs.
    var legendRows = 1, rowWidth = 0;
    series.forEach(function (s) {
      var w = 14 + 5 + textWidth(s.name, 11) + 10;
      if (rowWidth + w > el.clientWidth - 10 && rowWidth > 0) { legendRows++; rowWidth = 0; }
      rowWidth += w;
    });
    chart(el, {
      useUTC: true,
      title: { text: p.projectName, left: 0, textStyle: { fontSize: 13 } },
      legend: { bottom: 0, left: 0, right: 0, textStyle: { fontSize: 11 }, itemWidth: 14, itemHeight: 10, itemGap: 10 },
      grid: { left: GRID.left, right: GRID.right, top: GRID.top, bottom: 32 + legendRows * 20 },
      tooltip: { trigger: 'item', formatter: function (x) { if (x.componentType === 'markArea') return ''; return esc(x.seriesName) + '<br>' + dayTime(x.value[0]) + '<br>score/threshold ' + (x.value[4] !== undefined ? x.value[4] : x.value[1]) + (x.value[2] ? '<br>' + esc(x.value[2]) : '') + (x.value[3] ? ' ' + esc(x.value[3]) : ''); } },
      xAxis: timeAxis({ min: data.start, max: data.end }),
      yAxis: { type: 'log', min: floor, max: Math.max(10, Math.pow(10, Math.ceil(Math.log10(Math.max(highest, 1))))), name: 'score / threshold', nameLocation: 'middle', nameGap: 32, nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 10 } },
      series: series
    });
    var key = document.createElement('p');
    key.className = 'key';
    key.setAttribute('data-key-for', p.projectName);
    key.innerHTML = p.incidents.length === 0 ? '' : 'Shaded: ' + p.incidents.map(function (i) {
      return '<span><b>' + i[0] + '</b> ' + esc(i[1]) + ' (' + esc(i[2]) + '), ' + dayTime(i[3]) + ' – ' + dayTime(i[4]) + '</span>';
    }).join('');
    container.appendChild(key);
  });
  var incidents = m.incidents;
  function barLabel(p) { return hoursText(p.value); }
  function recoveryChart(el, title, bars) {
    // Two rows of bars per incident need room: the chart grows with the incidents.
    el.style.height = Math.max(300, 80 + incidents.length * bars.length * 22) + 'px';
    chart(el, {
      title: { text: title, textStyle: { fontSize: 13 } },
      legend: bars.length > 1 ? { bottom: 0 } : undefined,
      grid: { left: 8, right: 56, top: 40, bottom: bars.length > 1 ? 50 : 30, containLabel: true }, tooltip: { trigger: 'axis', valueFormatter: hoursText },
      // A log axis: minutes and days both stay visible, and each bar is labelled with its time.
      xAxis: { type: 'log', min: 0.01, startValue: 0.01, name: 'hours', nameLocation: 'middle', nameGap: 22, nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 10, hideOverlap: true } },
      yAxis: { type: 'category', inverse: true, data: incidents.map(function (i) { return i.id; }), axisLabel: { fontSize: 11, width: 130, overflow: 'truncate' } },
      series: bars.map(function (b) {
        return { type: 'bar', name: b[0], barMaxWidth: 14, barMinHeight: 2, label: { show: true, position: 'right', fontSize: 10, formatter: barLabel },
          data: incidents.map(function (i) { var v = i[b[1]]; return v === undefined || v === null ? null : Math.max(+v.toFixed(3), 0.01); }), itemStyle: { color: b[2] } };
      })
    });
  }
  if (document.getElementById('detect')) {
    recoveryChart(document.getElementById('detect'), 'Time to detect (after the incident began)', [['time to detect', 'hoursToDetect', '#d1342f']]);
    recoveryChart(document.getElementById('mttr'), 'Time to recover (from the first failure)', data.remediation
      ? [['without Pipemend', 'hoursToRecoverManually', '#8a94a6'], ['with Pipemend', 'hoursToRecover', '#2a9d4b']]
      : [['without Pipemend', 'hoursToRecoverManually', '#8a94a6']]);
  }
  if (document.getElementById('actions')) {
    var outcomes = m.remediation.outcomes;
    var actions = Object.keys(outcomes).sort(function (a, b) { return m.remediation.decided[b] - m.remediation.decided[a]; });
    var statuses = Object.keys(m.remediation.statuses).sort();
    var PALETTE = { SUCCEEDED: '#2a9d4b', FAILED: '#d1342f', NOTIFIED: '#e08a00', NOT_RECORDED: '#b8bfcc', SHADOWED: '#6c7a96', SUGGESTED: '#1f77b4', ESCALATED: '#7b3fb8', SUPPRESSED: '#9aa3b5', DENIED: '#8c2d2a', APPROVAL_TIMED_OUT: '#c47f00' };
    chart(document.getElementById('actions'), {
      title: { text: 'Decided actions, by how they ended', textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } }, legend: { type: 'scroll', bottom: 0, left: 0, right: 0, textStyle: { fontSize: 11 } },
      grid: { left: 8, right: 40, top: 40, bottom: 50, containLabel: true },
      xAxis: { type: 'value', name: 'executions', nameLocation: 'middle', nameGap: 22, nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 10, hideOverlap: true } },
      yAxis: { type: 'category', inverse: true, data: actions, axisLabel: { fontSize: 11 } },
      series: statuses.map(function (status) {
        return { type: 'bar', stack: 'all', name: status, barMaxWidth: 24, itemStyle: { color: PALETTE[status] || '#555' },
          data: actions.map(function (a) { return outcomes[a][status] || null; }) };
      })
    });
  }
  if (document.getElementById('trainings')) {
    chart(document.getElementById('trainings'), {
      useUTC: true,
      title: { text: 'Threshold and training rows of each model', textStyle: { fontSize: 13 } },
      tooltip: { trigger: 'axis' }, legend: { bottom: 0 }, grid: { left: 8, right: 8, top: 48, bottom: 50, containLabel: true },
      xAxis: timeAxis({ min: data.start, max: data.end }),
      yAxis: [{ type: 'value', name: 'threshold', nameTextStyle: { fontSize: 10, align: 'left' }, axisLabel: { fontSize: 10 } },
              { type: 'value', name: 'rows', nameTextStyle: { fontSize: 10, align: 'right' }, axisLabel: { fontSize: 10 } }],
      series: [
        { type: 'line', name: 'threshold', data: data.trainings.map(function (t) { return [t[0], t[1]]; }) },
        { type: 'bar', name: 'training rows', yAxisIndex: 1, barMaxWidth: 12, data: data.trainings.map(function (t) { return [t[0], t[2]]; }), itemStyle: { color: 'rgba(31,119,180,0.35)' } }
      ]
    });
  }
  var costLines = m.cost.lines.filter(function (l) { return l.monthlyUsd > 0; });
  document.getElementById('cost').style.height = Math.max(300, 80 + costLines.length * 24) + 'px';
  chart(document.getElementById('cost'), {
    title: { text: 'USD per month by service', textStyle: { fontSize: 13 } },
    tooltip: {}, grid: { left: 8, right: 50, top: 40, bottom: 30, containLabel: true },
    xAxis: { type: 'value', axisLabel: { fontSize: 10, hideOverlap: true } },
    yAxis: { type: 'category', inverse: true, data: costLines.map(function (l) { return l.service; }), axisLabel: { fontSize: 11, width: 150, overflow: 'truncate' } },
    series: [{ type: 'bar', name: 'USD / month', barMaxWidth: 16, label: { show: true, position: 'right', fontSize: 10, formatter: function (p) { return '$' + p.value.toFixed(2); } },
      data: costLines.map(function (l) { return +l.monthlyUsd.toFixed(2); }), itemStyle: { color: '#1f77b4' } }]
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  window.pipemendCharts = charts;
})();
`;

function dateTime(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

/** `A, A, B` as `A ×2, B`: an incident's repeated decisions stay readable. */
function countedList(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => (n > 1 ? `${item} ×${n}` : item)).join(', ');
}

function tile(key: string, value: string, why = ''): string {
  return `<div class="tile"><div class="v">${escapeHtml(value)}</div><div class="k">${escapeHtml(key)}</div>${why ? `<div class="why">${escapeHtml(why)}</div>` : ''}</div>`;
}

/** Unknown is a dash, never 0%: the text around it says why. */
function percent(value: number | null): string {
  return value === null ? '—' : `${(value * 100).toFixed(0)}%`;
}

function hours(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return value < 1 ? `${Math.round(value * 60)} min` : `${value.toFixed(1)} h`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The flaky-tests part of the remediation section: rescued builds, the top flaky tests, quarantines. */
function flakyTestsSection(flaky: FlakyTestSummary): string {
  const rows = flaky.topTests
    .map(
      (t) =>
        `<tr><td>${escapeHtml(t.name)}</td><td>${escapeHtml(t.projectName)}</td><td class="num">${t.reruns}</td><td class="num">${t.rescued}</td><td class="num">${t.failedAgain}</td></tr>`,
    )
    .join('');
  const table =
    flaky.topTests.length > 0
      ? `<p>The tests whose failures remediation reran builds for, most rescued first:</p>
  <div class="scroll"><table><thead><tr><th>test</th><th>project</th><th>reruns for its failure</th><th>rescued</th><th>failed again</th></tr></thead><tbody>${rows}</tbody></table></div>`
      : '<p>No build was rerun for a failed test.</p>';
  return `<h3>Flaky tests</h3>
  <p>${plural(flaky.rescuedBuilds, 'build')} rescued by a rerun of the same revision that passed the tests that had failed.</p>
  ${table}
  <p>Quarantines: none. The replay quarantines nothing; a person quarantines a test, with an owner, a reason and an expiry, with <code>pipemend flaky quarantine</code>.</p>`;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
