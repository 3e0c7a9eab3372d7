/**
 * The custody service's HTTP front, first slice (src/vault/serve/server.ts): a real HTTP server on a loopback port,
 * accounts in SQLite, requests as a browser and as an attacker would send them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/free-port.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { Accounts } from '../../../src/vault/accounts/accounts.ts';
import { openSqliteIndex } from '../../../src/vault/index/sql.ts';
import { LoginLimits } from '../../../src/vault/serve/login-limit.ts';
import { SESSION_COOKIE, VaultServer } from '../../../src/vault/serve/server.ts';
import { CLI, cli } from '../../harness/daemon.ts';

const PASSWORD = 'a long enough passphrase';
let base = '';
let server: VaultServer;
let clock = Date.UTC(2026, 11, 5, 9);

beforeAll(async () => {
  const db = openSqliteIndex(path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-serve-')), 'vault.sqlite'));
  const accounts = await Accounts.open(db);
  await accounts.add({ name: 'c.janssens', organisation: 'pz5339', role: 'custodian', password: PASSWORD });
  await accounts.add({ name: 'gone', organisation: 'pz5339', role: 'auditor', password: PASSWORD });
  await accounts.setDisabled('gone', true);
  server = new VaultServer({
    accounts,
    log: silentLogger(),
    host: '127.0.0.1',
    port: 0,
    now: () => clock,
    limits: new LoginLimits(
      { free: 3, firstWaitMs: 30_000, maxWaitMs: 600_000, forgetAfterMs: 86_400_000 },
      { free: 50, firstWaitMs: 30_000, maxWaitMs: 600_000, forgetAfterMs: 86_400_000 },
    ),
  });
  base = await server.start();
}, 30_000);
afterAll(() => server?.stop());

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const post = (p: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${p}`, {
    method: 'POST',
    body,
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  });
const get = (p: string, cookie = '') =>
  fetch(`${base}${p}`, { redirect: 'manual', headers: cookie === '' ? {} : { Cookie: cookie } });

async function login(name = 'c.janssens', password = PASSWORD): Promise<string> {
  const r = await post('/login', form({ name, password }));
  expect(r.status).toBe(303);
  const set = r.headers.get('set-cookie') ?? '';
  return set.split(';')[0] ?? '';
}

describe('the vault service: logging in', () => {
  it('reads nothing without a session, and says so with its security headers on every answer', async () => {
    const home = await get('/');
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/login');
    for (const r of [home, await get('/api/session'), await get('/login'), await get('/nothing')]) {
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(r.headers.get('content-security-policy')).not.toMatch(/unsafe-inline/);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
    expect((await get('/api/session')).status).toBe(401);
    expect((await get('/nothing')).status).toBe(404);
    const page = await (await get('/login')).text();
    expect(page).toContain('<form method="post" action="/login">');
    expect(page).not.toMatch(/<script|style=/);
  });

  it('logs in with the password only, in an HttpOnly SameSite=Strict cookie; the session reads the account', async () => {
    const wrong = await post('/login', form({ name: 'c.janssens', password: `${PASSWORD}x` }));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const unknown = await post('/login', form({ name: 'nobody', password: PASSWORD }));
    expect(unknown.status).toBe(401);
    expect(await unknown.text()).toBe(await wrong.text()); // an unknown name reads like a wrong password
    const r = await post('/login', form({ name: 'C.Janssens', password: PASSWORD }));
    expect(r.status).toBe(303);
    const set = r.headers.get('set-cookie') ?? '';
    expect(set).toMatch(
      new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=28800$`),
    );
    const cookie = set.split(';')[0] ?? '';
    const me = await get('/api/session', cookie);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { account: { name: string; role: string } }).account).toMatchObject({
      name: 'c.janssens',
      role: 'custodian',
    });
    expect(await (await get('/', cookie)).text()).toContain(
      'Logged in as <strong>c.janssens</strong>, custodian of pz5339',
    );
    // A forged or foreign cookie is no session.
    expect((await get('/api/session', `${SESSION_COOKIE}=${'A'.repeat(43)}`)).status).toBe(401);
    expect((await post('/login', form({ name: 'gone', password: PASSWORD }))).status).toBe(401);
  });

  it('logs out only with the session’s CSRF token; a form posted from another site is refused', async () => {
    const cookie = await login();
    const { csrf } = (await (await get('/api/session', cookie)).json()) as { csrf: string };
    expect((await post('/logout', form({}), { Cookie: cookie })).status).toBe(403);
    expect((await post('/logout', form({ csrf: `${csrf}x` }), { Cookie: cookie })).status).toBe(403);
    const foreign = await post('/logout', form({ csrf }), { Cookie: cookie, Origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(
      (await post('/login', form({ name: 'c.janssens', password: PASSWORD }), { Origin: 'https://evil.example' }))
        .status,
    ).toBe(403);
    expect((await get('/api/session', cookie)).status).toBe(200); // still logged in after all that
    const out = await post('/logout', form({ csrf }), { Cookie: cookie, Origin: base });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await get('/api/session', cookie)).status).toBe(401);
  });

  it('ends a session after 15 idle minutes, and after 8 hours whatever happens', async () => {
    const cookie = await login();
    clock += 14 * 60_000;
    expect((await get('/api/session', cookie)).status).toBe(200);
    clock += 15 * 60_000 + 1;
    expect((await get('/api/session', cookie)).status).toBe(401);
    const busy = await login();
    for (let i = 0; i < 40; i++) {
      clock += 12 * 60_000;
      const status = (await get('/api/session', busy)).status;
      if (i < 39) expect(status).toBe(200);
      else expect(status).toBe(401); // 8 h 0 min: out
    }
  });

  it('limits failed logins per name: past 3, it waits (429, Retry-After) even with the right password', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await post('/login', form({ name: 'c.janssens', password: 'wrong password!' }))).status).toBe(401);
    }
    const locked = await post('/login', form({ name: 'c.janssens', password: PASSWORD }));
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('30');
    clock += 30_000;
    await login(); // the wait is over, the right password works, the count is cleared
    expect((await post('/login', form({ name: 'c.janssens', password: 'wrong password!' }))).status).toBe(401);
  });

  it('refuses a form over 8 KiB without reading it, and a method a page does not take', async () => {
    const big = await post('/login', form({ name: 'x', password: 'y'.repeat(9000) }));
    expect(big.status).toBe(413);
    expect((await fetch(`${base}/login`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('bodycam vault serve', () => {
  it('serves the login page at the configured address until SIGTERM, and exits 0', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-serve-cli-'));
    const config = path.join(dir, 'vault.json');
    const port = await freePort();
    writeFileSync(
      config,
      JSON.stringify({ version: 1, index: { kind: 'sqlite' }, listen: { host: '127.0.0.1', port } }),
    );
    const child = spawn(process.execPath, [CLI, 'vault', 'serve', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!stderr.includes('vault serving at') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toContain(`vault serving at http://127.0.0.1:${port}`);
    const r = await fetch(`http://127.0.0.1:${port}/login`);
    expect(r.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);

  it('will not serve passwords in clear beyond loopback: a LAN address needs tls (exit 2, naming it)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-serve-cli-'));
    const config = path.join(dir, 'vault.json');
    writeFileSync(config, JSON.stringify({ version: 1, index: { kind: 'sqlite' }, listen: { host: '10.0.0.5' } }));
    const r = cli(['vault', 'serve', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tls: listen.host 10.0.0.5 is not loopback');
  });
});
