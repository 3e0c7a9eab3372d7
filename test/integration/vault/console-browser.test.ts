/**
 * The custody service end to end in a real browser (Debian's chromium-headless-shell, driven by puppeteer-core): an
 * investigator logs in, finds the docked incident in the list, asks for access with a reason, opens the player, loads
 * the custodian identity file (read in the browser, never sent), and plays the first segment (time advances, frames
 * are decoded); the view is then in the incident's access history and in the signed custody log. The footage is what
 * a real camera daemon recorded through ffmpeg and sealed with age; the bucket is the in-memory store and the service
 * runs in this process on the test's clock. With BODYCAM_SCREENSHOTS=1 it writes the docs' screenshots of the pages.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { generateDeviceKeys, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import type { MemoryObjectStore } from '../../../src/store/memory.ts';
import { CustodyService } from '../../../src/vault/access/service.ts';
import { Accounts } from '../../../src/vault/accounts/accounts.ts';
import { consoleAsset } from '../../../src/vault/console/assets.ts';
import { verifyCustodyLog } from '../../../src/vault/custody-log.ts';
import { rebuild } from '../../../src/vault/index/rebuild.ts';
import { openSqliteIndex } from '../../../src/vault/index/sql.ts';
import { VaultServer } from '../../../src/vault/serve/server.ts';
import { BROWSER, browserReady, launchBrowser, shot } from '../../harness/browser.ts';
import { list, type makeSimCamera } from '../../harness/daemon.ts';
import { recordSealedIncident } from '../../harness/sealed-incident.ts';
import { itWith, which } from '../../harness/tools.ts';
import { ACTIVATED, ROOT, vaultBucket } from '../../harness/vault-bucket.ts';

const it = itWith('ffmpeg', BROWSER);
const ready = which('ffmpeg') !== null && browserReady();
const DAY = 86_400_000;
const PASSWORD = 'a long enough passphrase';

describe('the console in a browser: log in, find, ask, play, see the view logged', () => {
  let camera: ReturnType<typeof makeSimCamera>;
  let server: VaultServer;
  let browser: Browser;
  let store: MemoryObjectStore;
  let base = '';
  const custodyKeys = generateDeviceKeys();

  beforeAll(async () => {
    if (!ready) return;
    expect(consoleAsset('/assets/player.js'), 'dist/vault/console/assets/player.js: run npm run build').not.toBeNull();
    const recorded = await recordSealedIncident();
    camera = recorded.camera;
    const incident = recorded.incident;
    const storage = path.join(camera.dir, 'storage');
    const sealed = incident.segments.map((s) => readFileSync(path.resolve(storage, s.path)));
    const now = ACTIVATED + 2 * DAY;
    store = await vaultBucket(() => now, sealed);
    const db = openSqliteIndex(path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-console-')), 'vault.sqlite'));
    await rebuild(store, db, 'ev');
    const accounts = await Accounts.open(db);
    await accounts.add({ name: 'jansen', organisation: 'pz1', role: 'investigator', password: PASSWORD });
    const custody = await CustodyService.open({
      db,
      store,
      prefix: 'ev',
      key: loadPrivateKey(custodyKeys.privatePem),
      lockDays: 3650,
      now: () => now,
      via: 'web',
    });
    server = new VaultServer({
      accounts,
      log: silentLogger(),
      host: '127.0.0.1',
      port: 0,
      now: () => now,
      incidents: { custody, db, store, prefix: 'ev' },
    });
    base = await server.start();
    browser = await launchBrowser(['--autoplay-policy=no-user-gesture-required']);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (camera !== undefined) rmSync(path.dirname(camera.dir), { recursive: true, force: true });
  });

  it('an investigator plays a docked incident after asking with a reason, and the view is in its history', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 800 });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}\n${r.postData() ?? ''}`));
    page.on('pageerror', (e) => errors.push(String(e)));

    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await shot(page, 'vault-login');
    await page.type('input[name="name"]', 'jansen');
    await page.type('input[name="password"]', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('button')]);
    expect(new URL(page.url()).pathname, await page.content()).toBe('/');
    await shot(page, 'vault-incidents');

    const link = 'a[href="/incidents/pz1/cam1/INC1"]';
    await Promise.all([page.waitForNavigation(), page.click(link)]);
    expect(await page.$('#play')).toBeNull();
    await page.type('input[name="reason"]', 'PV 2026/1234 assault on the Meir');
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/access"] button')]);
    expect(await page.$eval('[role="status"]', (e) => e.textContent)).toBe('Access granted (own-organisation).');
    await shot(page, 'vault-incident');

    await Promise.all([page.waitForNavigation(), page.click('#play')]);
    const [chooser] = await Promise.all([page.waitForFileChooser(), page.click('input[type="file"]')]);
    await chooser.accept([camera.identityFile]);
    await page.waitForFunction(
      "(v => v.currentTime > 0.5 && v.getVideoPlaybackQuality().totalVideoFrames > 0)(document.querySelector('video'))",
      { timeout: 20_000 },
    );
    const alertHidden = await page.$eval('[role="alert"]', (e) => (e as unknown as { hidden: boolean }).hidden);
    expect(alertHidden).toBe(true);
    await shot(page, 'vault-player');

    await Promise.all([page.waitForNavigation(), page.goto(`${base}/incidents/pz1/cam1/INC1`)]);
    const history = await page.$$eval('#history tbody tr', (rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    expect(history.map((r) => [r[2], r[3]])).toEqual([
      ['access-grant', 'jansen (investigator, pz1)'],
      ['view', 'jansen (investigator, pz1)'],
    ]);
    // The identity went nowhere; the view is in the signed log as well as on the page.
    expect(requests.filter((r) => /AGE-SECRET-KEY/i.test(r))).toEqual([]);
    expect(errors).toEqual([]);
    const log = await verifyCustodyLog(store, ROOT, loadPublicKey(custodyKeys.publicPem));
    expect(log.problems).toEqual([]);
    expect(log.records.map((r) => r.record.action)).toEqual(['access-grant', 'view']);
    expect(log.records[1]?.record.objects.length).toBe(list(camera)[0]?.segments.length);
    await page.close();
  }, 90_000);
});
