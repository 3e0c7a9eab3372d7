/**
 * The custody service's player in a real browser (Debian's chromium-headless-shell, driven by puppeteer-core): a
 * real camera daemon records an incident through ffmpeg and seals its segments with age; a small HTTP server serves
 * the player page (playerPage), its assets (consoleAsset) and the ciphertext, under the player's CSP. The custodian's
 * identity file is chosen through the file input; the page decrypts in the browser and plays through MSE. Checked:
 * time advances and frames are decoded; no request carries the identity; a wrong identity and an altered byte are
 * refused with a clear message and nothing of them is played.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { consoleAsset } from '../../../src/vault/console/assets.ts';
import { PLAYER_CSP, playerPage } from '../../../src/vault/console/player-page.ts';
import { BROWSER, browserReady, launchBrowser, shot } from '../../harness/browser.ts';
import { cli, type makeSimCamera } from '../../harness/daemon.ts';
import { recordSealedIncident } from '../../harness/sealed-incident.ts';
import { itWith, which } from '../../harness/tools.ts';

const it = itWith('ffmpeg', BROWSER);
const ready = which('ffmpeg') !== null && browserReady();

interface Served {
  incident: string;
  /** Each segment's sealed bytes and its media length (ms) from the camera's index. */
  segments: Array<{ seq: number; bytes: Buffer; mediaMs: number; gone?: true }>;
}

/** What reached the server: every request's URL and body. */
const seen: string[] = [];

function serve(incidents: Map<string, Served>): Promise<Server> {
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}\n${Buffer.concat(chunks).toString('latin1')}`);
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, type: string, body: Buffer | string) => {
        res.writeHead(status, {
          'Content-Type': type,
          'Content-Security-Policy': PLAYER_CSP,
          'Cache-Control': 'no-store',
        });
        res.end(body);
      };
      const asset = consoleAsset(url.pathname);
      if (asset !== null) return send(200, asset.contentType, asset.body);
      const m = /^\/incidents\/([a-z]+)(?:\/(play|segments)(?:\/(\d+))?)?$/.exec(url.pathname);
      const inc = m?.[1] === undefined ? undefined : incidents.get(m[1]);
      if (m === null || inc === undefined) return send(404, 'text/plain', 'not found');
      if (m[2] === 'play') {
        const page = playerPage({ title: `Incident ${inc.incident}`, segmentsUrl: `/incidents/${m[1]}/segments` });
        return send(200, 'text/html; charset=utf-8', page);
      }
      if (m[2] === 'segments' && m[3] === undefined) {
        const segments = inc.segments.map((s) => ({
          seq: s.seq,
          url: `/incidents/${m[1]}/segments/${s.seq}`,
          bytes: s.bytes.length,
        }));
        return send(200, 'application/json', JSON.stringify({ incident: inc.incident, segments }));
      }
      const seg = inc.segments.find((s) => String(s.seq) === m[3]);
      if (seg === undefined || seg.gone) return send(404, 'text/plain', 'not found');
      return send(200, 'application/octet-stream', seg.bytes);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Playback {
  time: number;
  frames: number;
  paused: boolean;
  src: string;
  /** The buffered ranges and the media's duration, in seconds. */
  ranges: number;
  end: number;
  duration: number;
  status: string;
  alert: string;
  alertHidden: boolean;
}

/** Read in the page (a string: the tests are type-checked without the DOM's types). */
const PROBE = `(() => {
  const v = document.querySelector('video');
  const alert = document.querySelector('[role="alert"]');
  return {
    time: v.currentTime,
    frames: v.getVideoPlaybackQuality().totalVideoFrames,
    paused: v.paused,
    src: v.getAttribute('src') ?? '',
    ranges: v.buffered.length,
    end: v.buffered.length === 0 ? 0 : v.buffered.end(v.buffered.length - 1),
    duration: v.duration,
    status: document.querySelector('[role="status"]').textContent,
    alert: alert.textContent,
    alertHidden: alert.hidden,
  };
})()`;

const playback = (page: Page): Promise<Playback> => page.evaluate(PROBE) as Promise<Playback>;

describe('the player decrypts in the browser and plays through MSE', () => {
  let camera: ReturnType<typeof makeSimCamera>;
  let server: Server;
  let browser: Browser;
  let base = '';
  let wrongKey = '';
  let sealed: Served;

  beforeAll(async () => {
    if (!ready) return;
    expect(consoleAsset('/assets/player.js'), 'dist/vault/console/assets/player.js: run npm run build').not.toBeNull();
    const recorded = await recordSealedIncident();
    camera = recorded.camera;
    const incident = recorded.incident;
    const storage = path.join(camera.dir, 'storage');
    sealed = {
      incident: incident.id,
      segments: incident.segments.map((s) => ({
        seq: s.seq,
        bytes: readFileSync(path.resolve(storage, s.path)),
        mediaMs: s.endMediaMs - s.firstMediaMs,
      })),
    };
    expect(sealed.segments.length).toBeGreaterThanOrEqual(2);
    // The second segment with one byte of its last chunk flipped.
    const tampered = sealed.segments.map((s, i) => {
      if (i !== 1) return s;
      const bytes = Buffer.from(s.bytes);
      bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x01;
      return { ...s, bytes };
    });
    wrongKey = path.join(camera.dir, 'other-custodian.key');
    expect(cli(['keygen', '--out', wrongKey]).code).toBe(0);
    server = await serve(
      new Map([
        ['good', sealed],
        ['tampered', { incident: incident.id, segments: tampered }],
        [
          'gone',
          { incident: incident.id, segments: sealed.segments.map((s, i) => (i === 1 ? { ...s, gone: true } : s)) },
        ],
      ]),
    );
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser(['--autoplay-policy=no-user-gesture-required']);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => (server === undefined ? r(null) : server.close(r)));
    if (camera !== undefined) rmSync(path.dirname(camera.dir), { recursive: true, force: true });
  });

  /** Opens the incident's player and chooses `keyFile` as the identity; returns the page and its requests. */
  async function open(
    incident: string,
    keyFile: string,
  ): Promise<{ page: Page; requests: string[]; errors: string[] }> {
    const page = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}\n${r.postData() ?? ''}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/incidents/${incident}/play`);
    const [chooser] = await Promise.all([page.waitForFileChooser(), page.click('input[type="file"]')]);
    await chooser.accept([keyFile]);
    return { page, requests, errors };
  }

  it('plays the first segment with the custodian identity: time advances, frames are decoded, the key stays here', async () => {
    const { page, requests, errors } = await open('good', camera.identityFile);
    await page.waitForFunction(
      "(v => v.currentTime > 0.5 && v.getVideoPlaybackQuality().totalVideoFrames > 0)(document.querySelector('video'))",
      { timeout: 15_000 },
    );
    const p = await playback(page);
    expect(p.alertHidden, p.alert).toBe(true);
    expect(p.time).toBeGreaterThan(0.5);
    expect(p.frames).toBeGreaterThan(0);
    // Every segment was fetched as ciphertext and decrypted here; the identity went nowhere.
    await page.waitForFunction(
      `document.querySelector('[role="status"]').textContent === 'All ${sealed.segments.length} segments decrypted in this browser.'`,
      { timeout: 15_000 },
    );
    for (const s of sealed.segments) {
      expect(requests.some((r) => r.startsWith(`GET ${base}/incidents/good/segments/${s.seq}\n`))).toBe(true);
    }
    expect(readFileSync(camera.identityFile, 'utf8')).toContain('AGE-SECRET-KEY-1');
    expect(requests.filter((r) => /AGE-SECRET-KEY/i.test(r))).toEqual([]);
    expect(seen.filter((r) => /AGE-SECRET-KEY/i.test(r))).toEqual([]);
    expect(errors).toEqual([]);
    await shot(page, 'vault-player');
    await page.close();
  });

  it('refuses an identity the footage is not sealed to, and plays nothing', async () => {
    const { page, requests } = await open('good', wrongKey);
    await page.waitForSelector('[role="alert"]:not([hidden])', { timeout: 10_000 });
    const p = await playback(page);
    expect(p.alert).toContain('this identity does not open this footage');
    expect(p.frames).toBe(0);
    expect(p.time).toBe(0);
    expect(p.src).toBe('');
    expect(requests.filter((r) => /AGE-SECRET-KEY/i.test(r))).toEqual([]);
    await page.close();
  });

  it('refuses a segment with one byte altered, naming it, and appends nothing of it', async () => {
    const { page } = await open('tampered', camera.identityFile);
    await page.waitForSelector('[role="alert"]:not([hidden])', { timeout: 10_000 });
    const p = await playback(page);
    const altered = sealed.segments[1]?.seq;
    expect(p.alert).toContain(`segment ${altered} failed to decrypt`);
    // Only what decrypted (the first segment, laid from 0) is buffered and the stream ends there.
    const firstSeconds = (sealed.segments[0]?.mediaMs ?? 0) / 1000;
    expect(p.ranges).toBe(1);
    expect(p.end).toBeGreaterThan(firstSeconds - 0.5);
    expect(p.end).toBeLessThan(firstSeconds + 0.5);
    expect(p.duration).toBeCloseTo(p.end, 1);
    expect(p.paused).toBe(true);
    await page.close();
  });

  it('names a segment the server does not hand out, and stops before it', async () => {
    const { page } = await open('gone', camera.identityFile);
    await page.waitForSelector('[role="alert"]:not([hidden])', { timeout: 10_000 });
    const p = await playback(page);
    expect(p.alert).toBe(`segment ${sealed.segments[1]?.seq} could not be fetched (HTTP 404)`);
    expect(p.ranges).toBe(1);
    expect(p.end).toBeCloseTo((sealed.segments[0]?.mediaMs ?? 0) / 1000, 0);
    await page.close();
  });
});
