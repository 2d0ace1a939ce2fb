import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';

import { Browser, Page } from 'playwright-core';

import { ReplayRun, runReplay } from '../../bin/commands/replay';
import { launchChromium } from '../../local/report/screenshot';
import { DEFAULT_SCENARIO } from '../../local/simulation/scenario';

const OUT = path.resolve(__dirname, '../../out/test-replay');
const DATA_OUT = path.resolve(__dirname, '../../out/test-replay-data');

/** What one ECharts instance shows, read through ECharts' own API and its zrender display list. */
interface ChartState {
  readonly id: string;
  readonly canvasWidth: number;
  readonly canvasHeight: number;
  /** Data items per series, from `getOption()`. */
  readonly seriesPoints: readonly number[];
  /** Every text element drawn (titles, axis and legend labels, bar labels, incident labels). */
  readonly labels: readonly { text: string; x: number; y: number; width: number; height: number }[];
  /** Incident labels of the markAreas and their shaded x ranges in pixels (`convertToPixel`). */
  readonly incidents: readonly { name: string; from: number; to: number }[];
}

/** Reads every chart of the report: run in the page. */
function readCharts(): ChartState[] {
  type Rect = { x: number; y: number; width: number; height: number; applyTransform(m: unknown): void };
  interface ZrText {
    type: string;
    ignore?: boolean;
    invisible?: boolean;
    style?: { text?: unknown; opacity?: number };
    transform?: unknown;
    getBoundingRect(): Rect & { clone(): Rect };
  }
  interface Instance {
    getOption(): {
      series: {
        data?: unknown[];
        markArea?: { data?: [{ name?: string; xAxis: number }, { xAxis: number }][] };
      }[];
    };
    convertToPixel(finder: { gridIndex: number }, value: number[]): number[];
    getZr(): { storage: { getDisplayList(update: boolean): ZrText[] } };
  }
  const echarts = (window as unknown as { echarts: { getInstanceByDom(el: Element): Instance | undefined } })
    .echarts;
  return Array.from(document.querySelectorAll('.chart')).map((el) => {
    const canvas = el.querySelector('canvas');
    const instance = echarts.getInstanceByDom(el);
    const series = instance?.getOption().series ?? [];
    const labels = (instance?.getZr().storage.getDisplayList(true) ?? [])
      .filter((e) => e.type === 'tspan' && !e.ignore && !e.invisible && (e.style?.opacity ?? 1) > 0)
      .filter((e) => String(e.style?.text ?? '').trim() !== '')
      .map((e) => {
        const rect = e.getBoundingRect().clone();
        if (e.transform) rect.applyTransform(e.transform);
        return { text: String(e.style!.text), x: rect.x, y: rect.y, width: rect.width, height: rect.height };
      });
    const incidents = series.flatMap((s) =>
      (s.markArea?.data ?? []).map(([from, to]) => ({
        name: from.name ?? '',
        from: instance!.convertToPixel({ gridIndex: 0 }, [from.xAxis, 1])[0]!,
        to: instance!.convertToPixel({ gridIndex: 0 }, [to.xAxis, 1])[0]!,
      })),
    );
    return {
      id: el.id || el.getAttribute('data-project') || '',
      canvasWidth: canvas?.width ?? 0,
      canvasHeight: canvas?.height ?? 0,
      seriesPoints: series.map((s) => s.data?.length ?? 0),
      labels,
      incidents,
    };
  });
}

/** Pairs of drawn labels whose boxes overlap by more than a pixel either way. */
function overlaps(chart: ChartState): string[] {
  const found: string[] = [];
  const { labels } = chart;
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const a = labels[i]!;
      const b = labels[j]!;
      const x = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
      const y = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
      if (x > 1 && y > 1) found.push(`${chart.id}: "${a.text}" overlaps "${b.text}"`);
    }
  }
  return found;
}

async function openReport(
  browser: Browser,
  report: string,
  width: number,
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(`file://${path.resolve(report)}`, { waitUntil: 'load' });
  // ECharts animates its first render: labels reach their places when the animation ends.
  await page.waitForTimeout(1500);
  return { page, problems };
}

describe('pipemend replay report in a real browser', () => {
  let run: ReplayRun;
  let dataRun: ReplayRun;
  let browser: Browser;

  // Replays and synthesis are CPU-bound: the generous timeout allows for a shared, busy machine.
  beforeAll(async () => {
    await rm(OUT, { recursive: true, force: true });
    await rm(DATA_OUT, { recursive: true, force: true });
    await mkdir(OUT, { recursive: true });
    // 50 days keep the test short and still reach the first incidents after the warm-up, the standalone
    // project's (search-indexer, outside any pipeline) among them.
    run = await runReplay({
      mode: 'enforce',
      out: OUT,
      seed: DEFAULT_SCENARIO.seed,
      days: 50,
      trees: 30,
      progress: false,
    });
    // The same builds as a user's own history (the backfill layout): no labels, no remediation.
    dataRun = await runReplay({
      mode: 'enforce',
      data: path.join(OUT, 'data-lake'),
      out: DATA_OUT,
      seed: DEFAULT_SCENARIO.seed,
      days: 50,
      trees: 30,
      progress: false,
    });
    browser = await launchChromium();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
  });

  describe.each([1440, 390])('at %i px wide', (width) => {
    it('simulation: every chart has data, no label overlaps another, incidents are labelled', async () => {
      const { page, problems } = await openReport(browser, run.reportPath, width);
      const charts = await page.evaluate(readCharts);
      const projects = new Set(run.result.builds.map((b) => b.projectName));
      // One chart per project, then time to detect, time to recover, actions, training and cost.
      expect(charts.map((c) => c.id).slice(projects.size)).toEqual([
        'detect',
        'mttr',
        'actions',
        'trainings',
        'cost',
      ]);
      expect(charts.length).toBe(projects.size + 5);
      for (const chart of charts) {
        expect(chart.canvasWidth).toBeGreaterThan(0);
        expect(chart.canvasHeight).toBeGreaterThan(0);
        expect(chart.seriesPoints.length).toBeGreaterThan(0);
        // No empty series: a legend entry always has something behind it.
        expect({ id: chart.id, empty: chart.seriesPoints.filter((n) => n === 0).length }).toEqual({
          id: chart.id,
          empty: 0,
        });
      }
      expect(charts.flatMap(overlaps)).toEqual([]);

      // Every project an incident touched is shaded, standalone ones included, and each shading's label
      // is drawn inside the plot, starting where the shading starts.
      const shaded = charts.filter((c) => c.incidents.length > 0);
      const touched = new Set(
        run.result.builds
          .filter((b) => b.truth?.incidentId && !b.truth.remediation)
          .map((b) => b.projectName),
      );
      expect(shaded.map((c) => c.id).sort()).toEqual(expect.arrayContaining([...touched].sort()));
      expect(touched).toContain('search-indexer-build');
      for (const chart of shaded) {
        for (const incident of chart.incidents) {
          const label = chart.labels.find(
            (l) => l.text === incident.name && Math.abs(l.x - incident.from) < 6 && l.y < 120,
          );
          expect({ chart: chart.id, incident: incident.name, drawn: label !== undefined }).toEqual({
            chart: chart.id,
            incident: incident.name,
            drawn: true,
          });
        }
        // The key under the chart names each number.
        const numbers = await page.locator(`[data-key-for="${chart.id}"] b`).allInnerTexts();
        expect(numbers.sort()).toEqual(chart.incidents.map((i) => i.name).sort());
      }

      // Dates as people write them: "Aug 2", never "Aug2".
      const axisDates = charts
        .flatMap((c) => c.labels.map((l) => l.text))
        .filter((t) => /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(\d|\s\d|$)/.test(t));
      expect(axisDates.length).toBeGreaterThan(0);
      for (const text of axisDates) expect(text).toMatch(/^[A-Z][a-z]{2} \d{1,2}( \d\d:\d\d)?$/);

      const groups = await page.locator('#suggestions tr.group').count();
      expect(groups).toBe(run.metrics.suggestions.length);
      await expect(page.locator('header').innerText()).resolves.toContain(
        `Replayed ${run.metrics.buildsReplayed.toLocaleString('en-US')} builds`,
      );

      const png = path.join(OUT, `report-${width}.png`);
      await page.screenshot({ path: png, fullPage: true });
      expect(existsSync(png)).toBe(true);
      expect(problems).toEqual([]);
      await page.close();
    });

    it('--data: no figure it cannot know, and the same checks on its charts', async () => {
      const { page, problems } = await openReport(browser, dataRun.reportPath, width);
      const charts = await page.evaluate(readCharts);
      const projects = new Set(dataRun.result.builds.map((b) => b.projectName));
      // No labels and no remediation: the detection, recovery and actions charts are not drawn at all.
      expect(charts.map((c) => c.id).slice(projects.size)).toEqual(['trainings', 'cost']);
      for (const chart of charts) {
        expect(chart.seriesPoints.length).toBeGreaterThan(0);
        expect(chart.seriesPoints.filter((n) => n === 0)).toEqual([]);
        expect(chart.incidents).toEqual([]);
      }
      expect(charts.flatMap(overlaps)).toEqual([]);

      const text = await page.locator('body').innerText();
      expect(text).not.toMatch(/injected|remediation mode|enforce/i);
      expect(text).not.toMatch(/\b0%/);
      expect(text).toContain('no labels');

      const png = path.join(DATA_OUT, `report-${width}.png`);
      await page.screenshot({ path: png, fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    });
  });
});
