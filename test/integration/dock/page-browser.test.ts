/**
 * The dock's own page in a real browser (Debian's chromium-headless-shell, driven by puppeteer-core) with a real dock
 * (its Mosquitto, its agent, in this process) and a real camera daemon docking with footage to hand over: the page
 * shows the camera docked and its transfer in progress (a progress bar, a percentage), then, refreshing itself with
 * no script, "Safe to undock" once everything is at the dock. With BODYCAM_SCREENSHOTS=1 it writes the docs'
 * screenshots (docs/img/dock-transfer.png, docs/img/dock-safe.png).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Browser } from 'puppeteer-core';
import { afterAll, describe, expect } from 'vitest';
import { dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { enrollCamera, makeDock } from '../../harness/broker.ts';
import { BROWSER, launchBrowser, shot } from '../../harness/browser.ts';
import { type Daemon, makeSimCamera } from '../../harness/daemon.ts';
import { captureLogger, dock, offloadingCamera, quietCamera, segmentsOf } from '../../harness/dock.ts';
import { itWith } from '../../harness/tools.ts';

const it = itWith(BROWSER);
const MiB = 1024 * 1024;

describe("the dock's page in a browser", () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
  }, 60_000);

  it('shows a docked camera handing over, then "Safe to undock", refreshing itself', async () => {
    const d = await makeDock();
    // Any free port for the page (the default is 8470 on loopback).
    const config = JSON.parse(readFileSync(dockLayout(d.dir).config, 'utf8')) as Record<string, unknown>;
    writeFileSync(dockLayout(d.dir).config, JSON.stringify({ ...config, page: { port: 0 } }));
    const station = new DockStation(d.dir, captureLogger().logger, { checkpointBytes: MiB });
    stations.push(station);
    await station.start();
    const url = station.pageUrl;
    if (url === null) throw new Error('the dock page is not served');
    // One camera enrolled that never comes: the page lists it.
    enrollCamera(d.dir, makeSimCamera(quietCamera('cam-spare')).configFile);
    const c = await offloadingCamera(d.dir, 'cam-7', { segments: 3, bytesEach: 32 * MiB });
    daemons.push(c.daemon);

    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 700 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${url}/`);
    expect(await page.$eval('#summary', (e) => e.textContent)).toBe('0 docked · 0 safe to undock · 0 need attention');
    expect(await page.$$eval('#never li', (l) => l.map((e) => e.textContent))).toEqual(['cam-7', 'cam-spare']);
    expect(await page.$eval('#updates', (e) => e.textContent)).toContain('No update is pending.');

    dock(c.camera, 'on');
    // Looked at as often as a page can load, until a transfer shows (the page itself reloads every 5 s).
    let percent: number | null = null;
    const deadline = Date.now() + 60_000;
    while (percent === null || percent === 0) {
      if (Date.now() > deadline) throw new Error(`no transfer in progress shown:\n${await page.content()}`);
      await page.reload();
      const text = await page.$eval('#docked', (e) => e.textContent ?? '');
      const bar = await page.$('#cam-cam-7 progress');
      if (bar !== null) percent = Number(/(\d+)%/.exec(text)?.[1] ?? 0);
      expect(
        segmentsOf(c.camera).every((s) => s.offloaded),
        'offloaded before the page showed it',
      ).toBe(false);
    }
    await shot(page, 'dock-transfer');
    expect(percent).toBeGreaterThan(0);
    expect(percent).toBeLessThan(100);
    expect(await page.$eval('#cam-cam-7 td.undock', (e) => e.textContent)).toMatch(/^Not yet\d+ items? to hand over$/);
    expect(await page.$eval('#summary', (e) => e.textContent)).toMatch(/^1 docked · 0 safe to undock/);
    expect(await page.$$eval('#never li', (l) => l.map((e) => e.textContent))).toEqual(['cam-spare']);

    // No reload from here: the page's own refresh brings the decision.
    await page.waitForSelector('#cam-cam-7 td.undock.safe', { timeout: 120_000 });
    expect(await page.$eval('#cam-cam-7 td.undock', (e) => e.textContent)).toBe('Safe to undock');
    expect(segmentsOf(c.camera).every((s) => s.offloaded)).toBe(true);
    expect(await page.$eval('#summary', (e) => e.textContent)).toBe('1 docked · 1 safe to undock · 0 need attention');
    expect(await page.$eval('#cam-cam-7', (e) => e.textContent)).toContain('nothing in transfer');
    const incidents = await page.$$eval('#incidents tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(incidents).toEqual([
      ['cam-7', c.stored[0]?.incident, '3', expect.stringMatching(/MB$/), 'complete', 'in the dock directory'],
    ]);
    await shot(page, 'dock-safe');
    expect(errors).toEqual([]);

    const json = (await (await fetch(`${url}/status.json`)).json()) as {
      cameras: Array<{ device: string; undock: { safe: boolean } }>;
    };
    expect(json.cameras.map((x) => [x.device, x.undock.safe])).toEqual([
      ['cam-7', true],
      ['cam-spare', false],
    ]);
    await page.close();
  }, 300_000);
});
