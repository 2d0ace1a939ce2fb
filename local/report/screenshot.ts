/**
 * `npm run docs:screenshot`: the first screen of a replay report (default `out/report.html`, written by
 * `npm start`) as a PNG (default `docs/report.png`), rendered by Debian's Chromium at 1440 × 900.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

import { Browser, chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Headless Debian Chromium with the flags a machine without network needs. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

async function main(report: string, png: string): Promise<void> {
  if (!existsSync(report)) throw new Error(`${report} not found: run npm start first`);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`file://${path.resolve(report)}`, { waitUntil: 'load' });
    // ECharts animates its first render.
    await page.waitForTimeout(1500);
    await page.screenshot({ path: png });
    process.stdout.write(`${png}\n`);
  } finally {
    await browser.close();
  }
}

if (require.main === module) {
  main(process.argv[2] ?? 'out/report.html', process.argv[3] ?? 'docs/report.png').catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
