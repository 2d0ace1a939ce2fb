/**
 * The replay's report: one self-contained HTML file (the echarts library inlined, the run's data embedded
 * as JSON) with the anomaly score of every project over time against its threshold, incidents and actions
 * marked; detection against the labels; what remediation did and saved; recovery times with and without
 * Pipemend; the suggestions; and the monthly cost estimate. Every figure comes from the replay.
 */
import { readFile } from 'node:fs/promises';

import type { ReplayResult } from '../replay';
import { ReportMetrics } from './metrics';

/** The echarts build the report inlines (Apache ECharts, a maintained charting library). */
export async function readEchartsSource(): Promise<string> {
  return readFile(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
}

/** The data the page's script draws from: compact, and only what the charts and tables need. */
export function reportData(result: ReplayResult, metrics: ReportMetrics): unknown {
  const projects = [...new Set(result.builds.map((b) => b.projectName))].sort();
  return {
    mode: result.mode,
    source: result.source,
    start: result.start,
    end: result.end,
    missingStages: result.missingStages,
    projects: projects.map((projectName) => {
      const builds = result.builds.filter((b) => b.projectName === projectName);
      const pipeline = builds[0]?.pipelineName;
      const stage = builds[0]?.stageName ?? 'Build';
      return {
        projectName,
        points: builds.map((b) => [
          Date.parse(b.endTime),
          round(b.threshold > 0 ? b.score / b.threshold : 0),
          b.anomalous ? 1 : 0,
          b.status === 'SUCCEEDED' ? 1 : 0,
          b.scorer,
          b.truth?.remediation ?? '',
        ]),
        actions: builds
          .filter((b) => b.remediation && b.remediation.action !== 'NONE')
          .map((b) => [
            Date.parse(b.endTime),
            round(b.threshold > 0 ? b.score / b.threshold : 0),
            b.remediation!.action,
            b.remediation!.status,
          ]),
        incidents: metrics.incidents
          .filter((i) => {
            if (pipeline === undefined) return false;
            const deployStage = i.kind === 'bad_deploy';
            const incidentPipeline = result.incidents.find((t) => t.spec.id === i.id)?.spec.pipeline;
            return incidentPipeline === pipeline && (deployStage ? stage === 'Deploy' : stage !== 'Deploy');
          })
          .map((i) => {
            const truth = result.incidents.find((t) => t.spec.id === i.id)!;
            return [i.id, Date.parse(i.start), truth.manualRecoveryAt.getTime()];
          }),
      };
    }),
    trainings: result.trainings.map((t) => [
      Date.parse(t.at),
      round(t.threshold),
      t.trainingRows,
      t.promoted,
    ]),
    suggestions: result.builds
      .filter((b) => b.suggestion)
      .map((b) => ({
        time: b.endTime,
        project: b.projectName,
        truth: b.truth?.incidentId ?? b.truth?.kind ?? '',
        action: b.remediation ? `${b.remediation.action} (${b.remediation.status})` : '',
        summary: b.suggestion!.summary,
        category: b.suggestion!.category,
        confidence: b.suggestion!.confidence,
        fix: b.suggestion!.suggestedFix,
        evidence: b.suggestion!.excerpt.text.split('\n').slice(0, 4).join('\n'),
      })),
  };
}

export function renderReport(result: ReplayResult, metrics: ReportMetrics, echartsSource: string): string {
  const data = JSON.stringify({ ...(reportData(result, metrics) as object), metrics }).replace(
    /</g,
    '\\u003c',
  );
  const d = metrics.detection;
  const r = metrics.remediation;
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
  .chart { width: 100%; height: 300px; }
  .grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e3e6eb; vertical-align: top; }
  td.num { text-align: right; white-space: nowrap; }
  pre { margin: 0; white-space: pre-wrap; font-size: 12px; color: #3b4252; max-width: 520px; }
  .missing { background: #fff4e5; border: 1px solid #f0b45b; border-radius: 8px; padding: 10px 16px; margin: 16px 0; }
  .note { color: #5b6477; font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>Pipemend replay</h1>
  <div>${escapeHtml(result.source === 'simulation' ? 'Simulated pipeline history' : 'Your build history')} from ${result.start.slice(0, 10)} to ${result.end.slice(0, 10)} (${result.days.toFixed(0)} days), remediation mode <strong>${escapeHtml(result.mode)}</strong>. Replayed ${metrics.buildsReplayed.toLocaleString('en-US')} builds in ${(result.wallMs / 1000).toFixed(1)} s (${metrics.buildsPerSecond.toFixed(0)} builds/s).</div>
</header>
<main>
${missing}
<div class="tiles">
  ${tile('Builds replayed', metrics.buildsReplayed.toLocaleString('en-US'))}
  ${tile('Anomalous builds', String(metrics.anomalousBuilds))}
  ${tile('Detection precision', percent(d.precision))}
  ${tile('Incidents detected', percent(d.incidentRecall))}
  ${tile('Builds saved by reruns', String(r.buildsSavedByReruns))}
  ${tile('Rollbacks performed', String(r.rollbacksPerformed))}
  ${tile('MTTR without Pipemend', hours(metrics.meanHoursToRecoverManually))}
  ${tile('MTTR with Pipemend', hours(metrics.meanHoursToRecover))}
  ${tile('Estimated AWS cost / month', `$${metrics.cost.monthlyUsd.toFixed(2)}`)}
</div>

<section>
  <h2>Anomaly score over time, per project</h2>
  <p class="note">Score divided by the threshold in force when the build was scored (1 = threshold; the baseline scorer decides until the first model, the embedded Random Cut Forest after). Shaded: injected incidents, from their start to the team's manual recovery. Markers: remediation actions.</p>
  <div id="projects"></div>
</section>

<section>
  <h2>Detection against the injected labels</h2>
  <p>Precision ${percent(d.precision)} (${d.truePositives} of ${d.truePositives + d.falsePositives} flagged builds belong to an incident; ${d.flakyFlagged} of the others failed a flaky test; ${percent(d.modelPrecision)} over the builds the trained model scored, without the cold-start baseline's verdicts), build recall ${percent(d.buildRecall)} (${d.truePositives} of ${d.truePositives + d.falseNegatives} labelled builds flagged), incident recall ${percent(d.incidentRecall)}, mean time to detect ${hours(d.meanHoursToDetect)}.</p>
  <div class="grid2"><div id="detect" class="chart"></div><div id="mttr" class="chart"></div></div>
  <table><thead><tr><th>incident</th><th>kind</th><th>labelled builds</th><th>detected</th><th>time to detect</th><th>remediation</th><th>recovery by hand</th><th>recovery in this run</th><th>recovered by</th></tr></thead>
  <tbody>${incidentRows}</tbody></table>
</section>

<section>
  <h2>Remediation</h2>
  <p class="note">Rollbacks wait for a human's approval, as the deployed stack requires by default; the replay's approver answers with the same delay as the team's manual response, so a rollback recovers about as fast as the team would have.</p>
  <p>${r.buildsSavedByReruns} failed builds turned green by a rerun or stage retry (${r.rerunsFailed} reruns failed), ${r.rollbacksPerformed} rollbacks, ${r.notifications} notifications. Mean time to recovery ${hours(metrics.meanHoursToRecoverManually)} by hand, ${hours(metrics.meanHoursToRecover)} in this run.</p>
  <div class="grid2"><div id="actions" class="chart"></div><div id="training" class="chart"></div></div>
</section>

<section>
  <h2>Fix suggestions</h2>
  <div id="suggestions"></div>
</section>

<section>
  <h2>Estimated monthly AWS cost of the deployed stack for this workload</h2>
  <p class="note">The replay's own counts (events, invocations with their locally measured durations, state transitions, objects and bytes written, metrics, notifications) scaled to 30 days, times public us-east-1 list prices (local/report/pricing.ts). The embedded scorer needs no endpoint; a SageMaker ml.t2.medium endpoint (the default of <code>scorer: 'endpoint'</code>) would add about $${metrics.cost.endpointAlternativeUsd.toFixed(0)} a month.</p>
  <div class="grid2"><div id="cost" class="chart"></div><div><table><thead><tr><th>service</th><th>usage per month</th><th>USD</th></tr></thead><tbody>${costRows}
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

/** Draws the charts from the embedded data (plain browser JavaScript, run once on load). */
const PAGE_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('replay-data').textContent);
  var m = data.metrics;
  var charts = [];
  function chart(el, option) { var c = echarts.init(el, null, { renderer: 'canvas' }); c.setOption(option); charts.push(c); return c; }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  var ACTION_STYLE = { RERUN_CLEAN: ['triangle', '#2a9d4b'], ROLLBACK: ['diamond', '#7b3fb8'], NOTIFY: ['pin', '#e08a00'] };
  var container = document.getElementById('projects');
  data.projects.forEach(function (p) {
    var el = document.createElement('div');
    el.className = 'chart';
    el.setAttribute('data-project', p.projectName);
    container.appendChild(el);
    var normal = [], anomalous = [], own = [];
    p.points.forEach(function (pt) {
      var point = [pt[0], Math.max(pt[1], 0.01), pt[4], pt[3] ? 'passed' : 'failed'];
      if (pt[5]) own.push(point); else if (pt[2]) anomalous.push(point); else normal.push(point);
    });
    var series = [
      { name: 'build', type: 'scatter', symbolSize: 4, data: normal, itemStyle: { color: '#8a94a6' } },
      { name: 'anomalous build', type: 'scatter', symbolSize: 7, data: anomalous, itemStyle: { color: '#d1342f' } },
      { name: "Pipemend's own build", type: 'scatter', symbolSize: 7, data: own, itemStyle: { color: '#1f77b4' } },
      { name: 'threshold', type: 'line', showSymbol: false, data: [[p.points[0][0], 1], [p.points[p.points.length - 1][0], 1]],
        lineStyle: { type: 'dashed', color: '#444' },
        markArea: { itemStyle: { color: 'rgba(255, 170, 0, 0.18)' }, label: { fontSize: 10 },
          data: p.incidents.map(function (i) { return [{ name: i[0], xAxis: i[1] }, { xAxis: i[2] }]; }) } }
    ];
    Object.keys(ACTION_STYLE).forEach(function (action) {
      var pts = p.actions.filter(function (a) { return a[2] === action; }).map(function (a) { return [a[0], Math.max(a[1], 0.01), a[3]]; });
      series.push({ name: action, type: 'scatter', symbol: ACTION_STYLE[action][0], symbolSize: 13, data: pts, itemStyle: { color: ACTION_STYLE[action][1] } });
    });
    chart(el, {
      title: { text: p.projectName, left: 0, textStyle: { fontSize: 13 } },
      legend: { top: 0, right: 0, textStyle: { fontSize: 11 } },
      grid: { left: 60, right: 20, top: 40, bottom: 30 },
      tooltip: { trigger: 'item', formatter: function (x) { return esc(x.seriesName) + '<br>' + new Date(x.value[0]).toISOString().slice(0, 16).replace('T', ' ') + '<br>score/threshold ' + x.value[1] + (x.value[2] ? '<br>' + esc(x.value[2]) : '') + (x.value[3] ? ' ' + esc(x.value[3]) : ''); } },
      xAxis: { type: 'time' },
      yAxis: { type: 'log', min: 0.01, name: 'score / threshold', nameLocation: 'middle', nameGap: 36, nameTextStyle: { fontSize: 10 } },
      series: series
    });
  });
  var incidents = m.incidents;
  chart(document.getElementById('detect'), {
    title: { text: 'Time to detect (hours after the incident began)', textStyle: { fontSize: 13 } },
    grid: { left: 150, right: 20, top: 40, bottom: 30 }, tooltip: {},
    xAxis: { type: 'value' }, yAxis: { type: 'category', data: incidents.map(function (i) { return i.id; }) },
    series: [{ type: 'bar', name: 'hours to detect', data: incidents.map(function (i) { return i.hoursToDetect === undefined ? null : +i.hoursToDetect.toFixed(2); }), itemStyle: { color: '#d1342f' } }]
  });
  chart(document.getElementById('mttr'), {
    title: { text: 'Time to recover (hours from the first failure)', textStyle: { fontSize: 13 } },
    legend: { top: 0, right: 0 }, grid: { left: 150, right: 20, top: 40, bottom: 30 }, tooltip: { trigger: 'axis' },
    xAxis: { type: 'value' }, yAxis: { type: 'category', data: incidents.map(function (i) { return i.id; }) },
    series: [
      { type: 'bar', name: 'without Pipemend', data: incidents.map(function (i) { return i.hoursToRecoverManually === undefined ? null : +i.hoursToRecoverManually.toFixed(2); }), itemStyle: { color: '#8a94a6' } },
      { type: 'bar', name: 'with Pipemend', data: incidents.map(function (i) { return i.hoursToRecover === undefined ? null : +i.hoursToRecover.toFixed(2); }), itemStyle: { color: '#2a9d4b' } }
    ]
  });
  var decided = m.remediation.decided, statuses = m.remediation.statuses;
  chart(document.getElementById('actions'), {
    title: { text: 'Remediation decisions and how they ended', textStyle: { fontSize: 13 } },
    tooltip: {}, legend: { bottom: 0 },
    series: [
      { type: 'pie', name: 'decided', radius: ['0%', '38%'], center: ['50%', '52%'], label: { fontSize: 11 }, data: Object.keys(decided).map(function (k) { return { name: k, value: decided[k] }; }) },
      { type: 'pie', name: 'ended', radius: ['50%', '68%'], center: ['50%', '52%'], label: { fontSize: 11 }, data: Object.keys(statuses).map(function (k) { return { name: k, value: statuses[k] }; }) }
    ]
  });
  chart(document.getElementById('training'), {
    title: { text: 'Weekly retraining: threshold and training rows', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis' }, legend: { top: 0, right: 0 }, grid: { left: 50, right: 50, top: 40, bottom: 30 },
    xAxis: { type: 'time' },
    yAxis: [{ type: 'value', name: 'threshold' }, { type: 'value', name: 'rows' }],
    series: [
      { type: 'line', name: 'threshold', data: data.trainings.map(function (t) { return [t[0], t[1]]; }) },
      { type: 'bar', name: 'training rows', yAxisIndex: 1, data: data.trainings.map(function (t) { return [t[0], t[2]]; }), itemStyle: { color: 'rgba(31,119,180,0.35)' } }
    ]
  });
  chart(document.getElementById('cost'), {
    title: { text: 'USD per month by service', textStyle: { fontSize: 13 } },
    tooltip: {}, grid: { left: 200, right: 30, top: 40, bottom: 30 },
    xAxis: { type: 'value' }, yAxis: { type: 'category', data: m.cost.lines.map(function (l) { return l.service; }) },
    series: [{ type: 'bar', name: 'USD / month', data: m.cost.lines.map(function (l) { return +l.monthlyUsd.toFixed(2); }), itemStyle: { color: '#1f77b4' } }]
  });
  var s = data.suggestions;
  document.getElementById('suggestions').innerHTML = s.length === 0 ? '<p>No failed builds, no suggestions.</p>' :
    '<table><thead><tr><th>build ended</th><th>project</th><th>what really happened</th><th>remediation</th><th>suggestion</th><th>confidence</th><th>evidence (redacted log excerpt)</th></tr></thead><tbody>' +
    s.map(function (x) { return '<tr><td>' + esc(x.time.slice(0, 16).replace('T', ' ')) + '</td><td>' + esc(x.project) + '</td><td>' + esc(x.truth) + '</td><td>' + esc(x.action) + '</td><td><strong>' + esc(x.summary) + '</strong> (' + esc(x.category) + ')<br>' + esc(x.fix) + '</td><td class="num">' + Math.round(x.confidence * 100) + '%</td><td><pre>' + esc(x.evidence) + '</pre></td></tr>'; }).join('') +
    '</tbody></table>';
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  window.pipemendCharts = charts;
})();
`;

/** `A, A, B` as `A ×2, B`: an incident's repeated decisions stay readable. */
function countedList(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => (n > 1 ? `${item} ×${n}` : item)).join(', ');
}

function tile(key: string, value: string): string {
  return `<div class="tile"><div class="v">${escapeHtml(value)}</div><div class="k">${escapeHtml(key)}</div></div>`;
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(0)}%`;
}

function hours(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return value < 1 ? `${Math.round(value * 60)} min` : `${value.toFixed(1)} h`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
