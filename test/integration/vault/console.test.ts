/**
 * The console's incident routes through a real HTTP server on a loopback port (src/vault/serve/incident-routes.ts),
 * with accounts and the index in SQLite and the bucket in memory, on the test's clock: the incident list and page,
 * asking for access with a reason, the policy's edges as the web answers them, the ciphertext served only under a
 * running grant and byte for byte as stored, every view and refusal in the incident's history and the signed log,
 * and nothing read without a session or from another organisation's incident.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import type { MemoryObjectStore } from '../../../src/store/memory.ts';
import { CustodyService } from '../../../src/vault/access/service.ts';
import { Accounts } from '../../../src/vault/accounts/accounts.ts';
import { verifyCustodyLog } from '../../../src/vault/custody-log.ts';
import { rebuild } from '../../../src/vault/index/rebuild.ts';
import { openSqliteIndex } from '../../../src/vault/index/sql.ts';
import { VaultServer } from '../../../src/vault/serve/server.ts';
import { ACTIVATED, ROOT, vaultBucket } from '../../harness/vault-bucket.ts';

const DAY = 86_400_000;
const PASSWORD = 'a long enough passphrase';
const SEGMENT = Buffer.from(`age-encryption.org/v1\n${'x'.repeat(3000)}`);
const custodyKeys = generateDeviceKeys();
let now = ACTIVATED;
let base = '';
let server: VaultServer;
let store: MemoryObjectStore;
const PAGE = '/incidents/pz1/cam1/INC1';

beforeAll(async () => {
  store = await vaultBucket(() => now, [SEGMENT]);
  const db = openSqliteIndex(path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-console-')), 'vault.sqlite'));
  await rebuild(store, db, 'ev');
  const accounts = await Accounts.open(db);
  for (const [name, role, organisation] of [
    ['jansen', 'investigator', 'pz1'],
    ['de.smet', 'prosecutor', 'pz1'],
    ['claes', 'investigator', 'pz2'],
    ['vos', 'custodian', 'pz1'],
    ['peeters', 'investigator', 'pz2'],
  ] as const) {
    await accounts.add({ name, organisation, role, password: PASSWORD });
  }
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
}, 30_000);
afterAll(() => server?.stop());

const get = (p: string, cookie = '') =>
  fetch(`${base}${p}`, { redirect: 'manual', headers: cookie === '' ? {} : { Cookie: cookie } });
const post = (p: string, fields: Record<string, string>, cookie: string) =>
  fetch(`${base}${p}`, {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
  });

async function login(name: string): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${base}/login`, {
    method: 'POST',
    body: new URLSearchParams({ name, password: PASSWORD }).toString(),
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  expect(r.status).toBe(303);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const session = (await (await get('/api/session', cookie)).json()) as { csrf: string };
  return { cookie, csrf: session.csrf };
}

describe('the console: incidents, access by policy, ciphertext under a grant', () => {
  it('reads nothing without a session: the list, a page, the segment list and a ciphertext URL', async () => {
    expect((await get('/')).status).toBe(303);
    for (const p of [PAGE, `${PAGE}/segments.json`, `${PAGE}/segments/0000.mp4.age`]) {
      const r = await get(p);
      expect(r.status).toBe(401);
      expect(await r.text()).not.toContain('age-encryption');
    }
  });

  it('day 29: the investigator finds the incident, is refused the footage until asking with a reason, then gets the ciphertext as stored', async () => {
    now = ACTIVATED + 29 * DAY;
    const { cookie, csrf } = await login('jansen');
    const list = await (await get('/', cookie)).text();
    expect(list).toContain(`href="${PAGE}"`);
    expect(list).toContain('1 incident(s)');
    const page = await (await get(PAGE, cookie)).text();
    expect(page).toContain('Warning to the person filmed</dt><dd>given');
    expect(page).toContain('ntp, offset 12 ms');
    expect(page).toContain(`action="${PAGE}/access"`);
    expect((await get(`${PAGE}/segments/0000.mp4.age`, cookie)).status).toBe(403);
    // A form without the session's CSRF token changes nothing.
    expect((await post(`${PAGE}/access`, { reason: 'PV 2026/1234 assault' }, cookie)).status).toBe(403);
    const short = await post(`${PAGE}/access`, { csrf, reason: 'because' }, cookie);
    expect(short.status).toBe(403);
    expect(await short.text()).toContain('needs its reason');
    const asked = await post(`${PAGE}/access`, { csrf, reason: 'PV 2026/1234 assault on the Meir' }, cookie);
    expect(asked.status).toBe(200);
    const granted = await asked.text();
    expect(granted).toContain('Access granted (own-organisation)');
    expect(granted).toContain('id="play"');
    const list2 = (await (await get(`${PAGE}/segments.json`, cookie)).json()) as {
      incident: string;
      segments: Array<{ seq: number; url: string; bytes: number }>;
    };
    expect(list2).toEqual({
      incident: 'INC1',
      segments: [{ seq: 1, url: `${PAGE}/segments/0000.mp4.age`, bytes: SEGMENT.length }],
    });
    const seg = await get(list2.segments[0]?.url ?? '', cookie);
    expect(seg.status).toBe(200);
    expect(seg.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await seg.arrayBuffer()).equals(SEGMENT)).toBe(true);
    // Only segments: the closing manifest is not served as footage, and no path leaves the incident.
    expect((await get(`${PAGE}/segments/incident.manifest.json`, cookie)).status).toBe(404);
    expect((await get(`${PAGE}/segments/..%2F..%2Fcam2%2FX%2F0000.mp4.age`, cookie)).status).toBe(404);
    const history = await (await get(PAGE, cookie)).text();
    expect(history).toMatch(/<td>access-refuse<\/td><td>jansen \(investigator, pz1\)<\/td>/);
    expect(history).toMatch(
      /<td>access-grant<\/td><td>jansen \(investigator, pz1\)<\/td><td>PV 2026\/1234 assault on the Meir/,
    );
    expect(history).toMatch(/<td>view<\/td><td>jansen/);
  });

  it('day 31: refused without a prosecutor’s decision, granted with the one a prosecutor recorded', async () => {
    now = ACTIVATED + 31 * DAY;
    const { cookie, csrf } = await login('jansen');
    expect((await get(`${PAGE}/segments.json`, cookie)).status).toBe(403);
    const refused = await post(`${PAGE}/access`, { csrf, reason: 'PV 2026/1234 assault on the Meir' }, cookie);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('only under a prosecutor');
    const p = await login('de.smet');
    const recorded = await post(
      `${PAGE}/authorise`,
      { csrf: p.csrf, reference: 'AN.12.L3.2026', reason: 'judicial inquiry 2026/77' },
      p.cookie,
    );
    expect(await recorded.text()).toContain('Decision recorded.');
    const granted = await post(
      `${PAGE}/access`,
      { csrf, reason: 'PV 2026/1234 assault on the Meir', authorisation: 'AN.12.L3.2026' },
      cookie,
    );
    expect(await granted.text()).toContain('Access granted (prosecutor-authorisation)');
    expect((await get(`${PAGE}/segments/0000.mp4.age`, cookie)).status).toBe(200);
  });

  it('another organisation sees nothing: its list is empty, the page and a ciphertext URL are refused and logged', async () => {
    now = ACTIVATED + 2 * DAY;
    const { cookie, csrf } = await login('claes');
    expect(await (await get('/', cookie)).text()).toContain('0 incident(s)');
    expect((await get(PAGE, cookie)).status).toBe(404);
    const seg = await get(`${PAGE}/segments/0000.mp4.age`, cookie);
    expect(seg.status).toBe(404);
    expect(Buffer.from(await seg.arrayBuffer()).includes(SEGMENT.subarray(0, 40))).toBe(false);
    expect((await post(`${PAGE}/access`, { csrf, reason: 'joint operation Noord 2026' }, cookie)).status).toBe(404);
    const log = await verifyCustodyLog(store, ROOT, loadPublicKey(custodyKeys.publicPem));
    expect(log.problems).toEqual([]);
    const theirs = log.records.filter((r) => r.record.operator.startsWith('claes'));
    expect(theirs.map((r) => r.record.action)).toEqual(['access-refuse', 'access-refuse', 'access-refuse']);
  });

  it('an account refused over and over waits: past 20 refusals it gets 429 and the custody log gets nothing more', async () => {
    now = ACTIVATED + 3 * DAY;
    const { cookie, csrf } = await login('peeters');
    const count = async () =>
      (await verifyCustodyLog(store, ROOT, loadPublicKey(custodyKeys.publicPem))).records.filter((r) =>
        r.record.operator.startsWith('peeters'),
      ).length;
    for (let i = 0; i < 20; i++) expect((await get(`${PAGE}/segments.json`, cookie)).status).toBe(404);
    expect(await count()).toBe(20);
    const limited = await post(`${PAGE}/access`, { csrf, reason: 'joint operation Noord 2026' }, cookie);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect((await get(PAGE, cookie)).status).toBe(429);
    expect(await count()).toBe(20);
    // Another account is not held up by it.
    const jansen = await login('jansen');
    expect((await get(PAGE, jansen.cookie)).status).toBe(200);
    // After the wait one more attempt is decided and logged; the next wait is twice as long.
    now += 61_000;
    expect((await get(PAGE, cookie)).status).toBe(404);
    expect(await count()).toBe(21);
    const again = await get(PAGE, cookie);
    expect(again.status).toBe(429);
    expect(again.headers.get('retry-after')).toBe('120');
  });

  it('a legal hold from the web: refused to an investigator, set by a custodian on every stored version, logged', async () => {
    now = ACTIVATED + 40 * DAY;
    const inv = await login('jansen');
    const refused = await post(
      `${PAGE}/hold`,
      { csrf: inv.csrf, on: '1', reason: 'case 2026/77 goes to court' },
      inv.cookie,
    );
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('only a custodian or prosecutor of pz1');
    const c = await login('vos');
    expect(await (await get(PAGE, c.cookie)).text()).toContain('Set a legal hold');
    const held = await post(`${PAGE}/hold`, { csrf: c.csrf, on: '1', reason: 'case 2026/77 goes to court' }, c.cookie);
    expect(held.status).toBe(200);
    const page = await held.text();
    expect(page).toContain('Legal hold set on 2 stored object version(s).');
    expect(page).toContain('Legal hold</dt><dd>yes');
    expect(page).toContain('Release the hold');
    const versions = [];
    for await (const v of store.listVersions('ev/pz1/cam1/INC1/')) versions.push(v);
    expect(versions.length).toBe(2);
    for (const v of versions) expect(await store.legalHold(v.key, v.versionId)).toBe(true);
    const log = await verifyCustodyLog(store, ROOT, loadPublicKey(custodyKeys.publicPem));
    expect(log.problems).toEqual([]);
    const last = log.records.at(-1)?.record;
    expect(last?.action).toBe('hold-set');
    expect(last?.operator).toBe('vos (custodian, pz1)');
    expect(last?.objects.map((o) => o.key).sort()).toEqual(versions.map((v) => v.key).sort());
    expect(log.records.at(-2)?.record).toMatchObject({
      action: 'access-refuse',
      operator: 'jansen (investigator, pz1)',
    });
  });

  it('a malformed path, an unknown organisation and an unreadable date: clear answers, nothing written to the log', async () => {
    now = ACTIVATED + 3 * DAY;
    const records = async () => (await verifyCustodyLog(store, ROOT, loadPublicKey(custodyKeys.publicPem))).records;
    const before = (await records()).length;
    const { cookie } = await login('jansen');
    // A percent-encoding that does not decode is a 404, not a failure of the service.
    const malformed = await get('/incidents/%E0%A4%A/cam1/INC1', cookie);
    expect(malformed.status).toBe(404);
    expect(await malformed.text()).toContain('no such incident');
    // Any name typed into the path: no record is made (a locked one, for years) under an organisation nobody has.
    expect((await get('/incidents/zz-nobody/cam9/NOPE', cookie)).status).toBe(404);
    expect((await get('/incidents/pz1/cam1/NOPE/segments.json', cookie)).status).toBe(404);
    const stray = [];
    for await (const e of store.list('ev/custody/zz-nobody/')) stray.push(e.key);
    expect(stray).toEqual([]);
    // A decision whose end cannot be read is not recorded (it would otherwise hold for ever).
    const p = await login('de.smet');
    const bad = await post(
      `${PAGE}/authorise`,
      { csrf: p.csrf, reference: 'AN.99.2026', reason: 'judicial inquiry 2026/78', until: 'someday' },
      p.cookie,
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Not recorded: &quot;someday&quot; is not a date.');
    expect((await records()).length).toBe(before);
  });
});
