import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';

import { Browser } from 'playwright-core';

import { ReplayRun, runReplay } from '../../bin/commands/replay';
import { launchChromium } from '../../local/report/screenshot';
import { DEFAULT_SCENARIO } from '../../local/simulation/scenario';

const OUT = path.resolve(__dirname, '../../out/test-replay');

describe('pipemend replay report in a real browser', () => {
  let run: ReplayRun;
  let browser: Browser;

  // Replays and synthesis are CPU-bound: the generous timeout allows for a shared, busy machine.
  beforeAll(async () => {
    await rm(OUT, { recursive: true, force: true });
    await mkdir(OUT, { recursive: true });
    // 45 days keep the test short and still reach the first incidents after the warm-up.
    run = await runReplay({
      mode: 'enforce',
      out: OUT,
      seed: DEFAULT_SCENARIO.seed,
      days: 45,
      trees: 30,
      progress: false,
    });
    browser = await launchChromium();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('loads without console errors, renders every chart with data, and is saved as a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));

    await page.goto(`file://${path.resolve(run.reportPath)}`, { waitUntil: 'load' });

    const charts = await page.evaluate(() => {
      const echarts = (window as unknown as { echarts: { getInstanceByDom(el: Element): unknown } }).echarts;
      return Array.from(document.querySelectorAll('.chart')).map((el) => {
        const canvas = el.querySelector('canvas');
        const instance = echarts.getInstanceByDom(el) as
          { getOption(): { series: { data?: unknown[] }[] } } | undefined;
        const series = instance?.getOption().series ?? [];
        return {
          id: el.id || el.getAttribute('data-project'),
          canvasWidth: canvas?.width ?? 0,
          canvasHeight: canvas?.height ?? 0,
          points: series.reduce((n, s) => n + (s.data?.length ?? 0), 0),
        };
      });
    });
    const projects = new Set(run.result.builds.map((b) => b.projectName));
    // One chart per project, then detection, recovery, actions, retraining and cost.
    expect(charts.length).toBe(projects.size + 5);
    for (const chart of charts) {
      expect(chart.canvasWidth).toBeGreaterThan(0);
      expect(chart.canvasHeight).toBeGreaterThan(0);
      expect(chart.points).toBeGreaterThan(0);
    }
    const suggestionRows = await page.locator('#suggestions tbody tr').count();
    expect(suggestionRows).toBe(run.result.builds.filter((b) => b.suggestion).length);
    await expect(page.locator('header').innerText()).resolves.toContain(
      `Replayed ${run.metrics.buildsReplayed.toLocaleString('en-US')} builds`,
    );

    await page.screenshot({ path: path.join(OUT, 'report.png'), fullPage: true });
    expect(existsSync(path.join(OUT, 'report.png'))).toBe(true);
    expect(problems).toEqual([]);
  });
});
