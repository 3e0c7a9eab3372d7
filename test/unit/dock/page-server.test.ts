/**
 * The dock's own page over HTTP, on a model made by hand: what a compromised camera sends (its release, its faults,
 * the names of what it offers) is shown as text and never becomes markup; every answer carries the security headers;
 * only the listed pages exist (anything else is a clear 404, any method but GET and HEAD a 405); a Host naming some
 * other site (DNS rebinding) is refused.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockPageModel, PageCamera, PendingUpdate } from '../../../src/dock/page/model.ts';
import { renderDockPage } from '../../../src/dock/page/render.ts';
import { DOCK_PAGE_PATHS, DockPageServer } from '../../../src/dock/page/server.ts';
import { silentLogger } from '../../../src/lib/logger.ts';

const EVIL = '"><script>alert(1)</script><img src=x onerror=alert(2)>';

function camera(device: string, o: Partial<PageCamera> = {}): PageCamera {
  return {
    device,
    lastSeen: '2026-12-06T10:00:00.000Z',
    stored: 0,
    storedBytes: 0,
    receiving: 0,
    refused: 0,
    receivedTotal: 0,
    auditSeq: -1,
    incidents: 0,
    refusals: [],
    enrolled: true,
    docking: null,
    undock: { safe: false, reason: 'never-docked', text: 'never docked here' },
    withdrawn: null,
    docked: false,
    hello: null,
    transfers: [],
    incidentsHeld: [],
    ...o,
  };
}

function model(updates: PendingUpdate[] | null = null): DockPageModel {
  return {
    at: '2026-12-06T10:00:05.000Z',
    dock: 'dock.local',
    store: { kind: 'filesystem', waiting: 0, refused: 0, lastError: null },
    cameras: [
      camera('cam-a', {
        docked: true,
        undock: { safe: false, items: 3, reason: 'handing-over', text: 'not yet: 3 items to hand over', since: 'x' },
        hello: { release: EVIL, faults: [EVIL, 'microphone silent'], battery: { percent: 81, volts: 4 } },
        transfers: [{ incident: EVIL, file: EVIL, bytes: 4_000_000, received: 1_000_000, updatedAt: 'x' }],
        incidentsHeld: [
          { incident: EVIL, segments: 2, bytes: 3e6, closed: false, waitingForStore: 0, refusedByStore: 0 },
        ],
      }),
      camera('cam-b', {
        docked: true,
        undock: { safe: true, items: 0, text: 'safe to undock', since: 'x' },
        docking: {
          record: { seq: 1, hash: 'h' },
          signedAt: 'x',
          chain: null,
          audit: null,
          rollback: EVIL,
        },
      }),
      camera('cam-never', { lastSeen: null }),
      camera('cam-gone', { enrolled: false, withdrawn: { at: '2026-12-01T00:00:00Z', reason: EVIL, serial: '01' } }),
    ],
    updates,
  };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(base: string, path: string, o: { method?: string; host?: string } = {}): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: o.method ?? 'GET',
        headers: o.host === undefined ? {} : { host: o.host },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe("the dock's page over HTTP", () => {
  let server: DockPageServer;
  let base = '';
  let current = model();

  beforeAll(async () => {
    server = new DockPageServer({
      host: '127.0.0.1',
      port: 0,
      names: ['dock.local'],
      log: silentLogger(),
      model: async () => current,
    });
    base = await server.start();
  });
  afterAll(() => server.stop());

  it("shows what a camera sent as text: no markup of the camera's gets into the page", async () => {
    const r = await get(base, '/');
    expect(r.status).toBe(200);
    expect(r.body).not.toContain('<script');
    expect(r.body).not.toContain('<img');
    expect(r.body).not.toContain(EVIL);
    // The same text is there, escaped: in the release, the faults, the transfer, the incident, rollback and withdrawal.
    const escaped = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;';
    expect(r.body.split(escaped).length - 1).toBeGreaterThanOrEqual(7);
    // The only elements are the page's own.
    const tags = new Set([...r.body.matchAll(/<([a-z0-9]+)/g)].map((m) => m[1]));
    expect([...tags].sort()).toEqual(
      [
        'a',
        'body',
        'br',
        'div',
        'footer',
        'h1',
        'h2',
        'head',
        'header',
        'html',
        'li',
        'link',
        'main',
        'meta',
        'p',
        'progress',
        'section',
        'span',
        'strong',
        'table',
        'tbody',
        'td',
        'th',
        'thead',
        'title',
        'tr',
        'ul',
      ].sort(),
    );
  });

  it('every answer carries the security headers: no script, no framing, no sniffing, no caching', async () => {
    for (const path of [...DOCK_PAGE_PATHS, '/nothing-here']) {
      const r = await get(base, path);
      const csp = String(r.headers['content-security-policy']);
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("form-action 'none'");
      expect(csp, path).not.toContain('script-src');
      expect(csp, path).not.toContain('unsafe');
      expect(r.headers['x-frame-options'], path).toBe('DENY');
      expect(r.headers['x-content-type-options'], path).toBe('nosniff');
      expect(r.headers['cache-control'], path).toBe('no-store');
      expect(r.headers['cross-origin-resource-policy'], path).toBe('same-origin');
    }
  });

  it('serves the page, its style sheet and the same as JSON, each with its type', async () => {
    const page = await get(base, '/');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<meta http-equiv="refresh" content="5">');
    expect((await get(base, '/dock.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const json = await get(base, '/status.json');
    expect(json.headers['content-type']).toBe('application/json');
    const parsed = JSON.parse(json.body) as DockPageModel;
    expect(parsed.cameras.map((c) => c.device)).toEqual(['cam-a', 'cam-b', 'cam-never', 'cam-gone']);
    expect(parsed.cameras[0]?.hello?.release).toBe(EVIL); // as data, as it came: JSON is not HTML
    const head = await get(base, '/', { method: 'HEAD' });
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('anything but the listed pages is a clear 404, with the path shown as text', async () => {
    for (const path of [
      '/x',
      '/status.json/',
      '/index.html',
      '/favicon.ico',
      '/../dock.json',
      '/%2e%2e/pki/ca.key',
      '/evidence/cam-a',
      '//status.json',
    ]) {
      const r = await get(base, path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).toContain('No such page');
      expect(r.body, path).toContain('It serves');
    }
    const r = await get(base, '/<script>alert(1)</script>');
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('<script>');
    expect(r.body).toContain('&lt;script&gt;');
  });

  it('is read-only: any other method is refused with 405 and Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await get(base, '/', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers['allow'], method).toBe('GET, HEAD');
    }
  });

  it("answers an IP address, localhost and the dock's own name, and refuses any other Host (DNS rebinding)", async () => {
    const port = new URL(base).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `dock.local:${port}`, `DOCK.local`, '[::1]:80']) {
      expect((await get(base, '/', { host })).status, host).toBe(200);
    }
    for (const host of [`evil.example:${port}`, 'attacker.test', `localhost.evil.example:${port}`]) {
      const r = await get(base, '/status.json', { host });
      expect(r.status, host).toBe(421);
      expect(r.body).not.toContain('cam-a');
    }
    // No Host at all (HTTP/1.0 allows it): refused the same.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET /status.json HTTP/1.0\r\n\r\n'));
      let text = '';
      socket.on('data', (c) => {
        text += c.toString();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 421 Misdirected Request');
    expect(raw).not.toContain('cam-a');
  });

  it('says "no updates configured" without an update delivery, and lists the pending ones with one', async () => {
    current = model(null);
    expect((await get(base, '/')).body).toContain('No updates configured at this dock.');
    current = model([{ device: 'cam-a', release: '1.4.0', state: 'waiting for idle', reason: EVIL }]);
    const body = (await get(base, '/')).body;
    expect(body).not.toContain('No updates configured');
    expect(body).toMatch(/<td>cam-a<\/td><td>1\.4\.0<\/td><td>waiting for idle<\/td><td>&quot;&gt;&lt;script/);
    current = model();
  });

  it('puts the docked cameras first, each saying safe to undock or why not, and lists the others by state', () => {
    const html = renderDockPage(model());
    expect(html).toContain('<strong>2</strong> docked · <strong>1</strong> safe to undock');
    expect(html).toMatch(
      /<tr id="cam-cam-b"><th scope="row">cam-b<\/th><td class="undock safe"><strong>Safe to undock/,
    );
    expect(html).toMatch(
      /<tr id="cam-cam-a">.*Not yet<\/strong><br>3 items to hand over.*<progress max="4000000" value="1000000">/,
    );
    expect(html).toMatch(/<section id="never">[\s\S]*<li>cam-never<\/li>/);
    expect(html).toMatch(/<section id="withdrawn">[\s\S]*cam-gone<\/strong>: withdrawn 2026-12-01 00:00:00 UTC/);
    expect(html).toMatch(/<section id="attention">[\s\S]*cam-a<\/strong>: microphone silent/);
  });
});
