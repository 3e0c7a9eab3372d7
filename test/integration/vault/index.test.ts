/**
 * The vault's incident index on both of its drivers, every assertion run on each: SQLite (a temp file) and PostgreSQL
 * (a throw-away PostgreSQL 15 cluster, test/harness/postgres.ts, a fresh database per test). In the integration tier
 * because the PostgreSQL half starts a real server and waits for it in real time; it is skipped, naming what is
 * missing, where PostgreSQL is not installed (scripts/setup.sh installs it). The bucket is the in-memory object store.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sign } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey } from '../../../src/evidence/keys.ts';
import { incidentManifest, manifestFileText } from '../../../src/evidence/manifest.ts';
import { incidentObject } from '../../../src/evidence/object-keys.ts';
import { retentionMetadata } from '../../../src/evidence/retention.ts';
import { BodycamError, ErrorCode } from '../../../src/lib/errors.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import { putVerified } from '../../../src/store/verified-put.ts';
import { openPostgresIndex } from '../../../src/vault/index/postgres.ts';
import { incidentDetail, listIncidents } from '../../../src/vault/index/query.ts';
import { rebuild } from '../../../src/vault/index/rebuild.ts';
import { numberPlaceholders, type SqlClient } from '../../../src/vault/index/sql.ts';
import { driverTest, INDEX_DRIVERS } from '../../harness/index-drivers.ts';
import { freePort, POSTGRES_MISSING, POSTGRES_SKIP, startPostgres } from '../../harness/postgres.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1);
const pair = generateDeviceKeys();
const priv = loadPrivateKey(pair.privatePem);

const put = (
  store: MemoryObjectStore,
  org: string,
  device: string,
  incident: string,
  file: string,
  body: Buffer,
  dueDays: number,
) =>
  putVerified(store, {
    key: incidentObject({ prefix: 'ev', organisation: org }, device, incident, file),
    source: body,
    retention: { mode: 'COMPLIANCE', retainUntil: new Date(T0 + 30 * DAY) },
    metadata: retentionMetadata({
      recordedMs: T0,
      recordedBy: 'device',
      minimumUntilMs: T0 + 30 * DAY,
      deleteDueMs: T0 + dueDays * DAY,
    }),
    contentType: 'application/octet-stream',
  });

async function bucket() {
  const store = new MemoryObjectStore({ now: () => T0 });
  const closing = incidentManifest({
    device: 'cam1',
    incident: 'INC1',
    ending: 'closed',
    trigger: 'button',
    activatedAt: '2026-06-01T10:00:00.000Z',
    stoppedAt: '2026-06-01T10:05:00.000Z',
    stopReason: 'button',
    segments: [
      { seq: 0, manifest: 'a'.repeat(64) },
      { seq: 1, manifest: 'b'.repeat(64) },
    ],
    preroll: { requestedMs: 30_000, actualMs: 29_500, firstKeyframeOffsetMs: 0 },
    warning: { state: 'given', reason: null, startedMediaMs: 1000, durationMs: 4000, languages: ['nl'] },
    clock: { source: 'ntp', offsetMs: 12 },
    retention: { policeAccessDays: 30, maxMonths: 12 },
    signedAt: '2026-06-01T10:05:01.000Z',
  });
  const env = sign({ ...closing, chainSeq: 2, prev: 'c'.repeat(64) }, priv, keyId(priv));
  await put(store, 'pz1', 'cam1', 'INC1', '0000.mp4.age', Buffer.alloc(1000, 1), 300);
  await put(store, 'pz1', 'cam1', 'INC1', '0001.mp4.age', Buffer.alloc(500, 2), 310);
  await put(store, 'pz1', 'cam1', 'INC1', 'incident.manifest.json', Buffer.from(manifestFileText(env)), 305);
  await put(store, 'pz2', 'cam9', 'INC7', '0000.mp4.age', Buffer.alloc(70, 3), 200);
  return store;
}

/** `db` whose transactions fail at their `n`th INSERT, as a server that fails mid-rebuild (disk full, lost link). */
function failingAt(db: SqlClient, n: number): SqlClient {
  return {
    ...db,
    transaction: (fn) =>
      db.transaction((tx) => {
        let inserts = 0;
        return fn({
          ...tx,
          run: async (sql, params) => {
            if (sql.startsWith('INSERT INTO incidents') && ++inserts === n) throw new Error('disk full');
            await tx.run(sql, params);
          },
        });
      }),
  };
}

describe.each(INDEX_DRIVERS)('vault index on $name', (driver) => {
  const test = driverTest(driver);

  test('rebuilds incidents from the bucket with their facts, filters them, and a rebuild gives the same rows', async () => {
    const store = await bucket();
    const db = await driver.open();
    const report = await rebuild(store, db, 'ev');
    expect(report).toEqual({ incidents: 2, unexpected: [] });
    const inc1 = await incidentDetail(db, 'pz1', 'cam1', 'INC1');
    expect(inc1).toEqual({
      organisation: 'pz1',
      device: 'cam1',
      incident: 'INC1',
      closed: true,
      activatedAt: '2026-06-01T10:00:00.000Z',
      stoppedAt: '2026-06-01T10:05:00.000Z',
      prerollMs: 29_500,
      warning: 'given',
      clockSource: 'ntp',
      clockOffsetMs: 12,
      segments: 2,
      bytes: 1500,
      verification: 'unverified',
      minimumUntil: new Date(T0 + 30 * DAY).toISOString(),
      deleteDue: new Date(T0 + 310 * DAY).toISOString(),
      held: false,
    });
    // Integers come back as numbers from both drivers (pg's default for BIGINT is a string).
    expect(
      await db.all('SELECT closed, segments, bytes, preroll_ms FROM incidents WHERE incident = ?', ['INC1']),
    ).toEqual([{ closed: 1, segments: 2, bytes: 1500, preroll_ms: 29_500 }]);
    const open = await incidentDetail(db, 'pz2', 'cam9', 'INC7');
    expect(open).toMatchObject({ closed: false, activatedAt: null, segments: 1, bytes: 70, held: false });
    expect((await listIncidents(db, { organisation: 'pz2' })).map((r) => r.incident)).toEqual(['INC7']);
    expect((await listIncidents(db, { device: 'cam1' })).map((r) => r.incident)).toEqual(['INC1']);
    expect((await listIncidents(db, { from: '2026-06-01T09:00:00Z', to: '2026-06-01T11:00:00Z' })).length).toBe(1);
    expect((await listIncidents(db, { from: '2026-06-02T00:00:00Z' })).length).toBe(0);

    const head = await store.head('ev/pz2/cam9/INC7/0000.mp4.age');
    if (head === null) throw new Error('no object');
    await store.setLegalHold(head.key, head.versionId, true);
    const before = await listIncidents(db);
    await rebuild(store, db, 'ev');
    expect((await listIncidents(db, { held: true })).map((r) => r.incident)).toEqual(['INC7']);
    expect((await listIncidents(db, { held: false })).map((r) => r.incident)).toEqual(['INC1']);
    await db.close();

    const fresh = await driver.open();
    await rebuild(store, fresh, 'ev');
    const after = await listIncidents(fresh);
    expect(after).toEqual(before.map((r) => (r.incident === 'INC7' ? { ...r, held: true } : r)));
    await fresh.close();
  });

  test('names keys outside the layout instead of indexing them', async () => {
    const store = await bucket();
    const body = Buffer.from('x');
    await putVerified(store, {
      key: 'ev/pz1/cam1/INC1/deeper/x',
      source: body,
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(T0 + DAY) },
      metadata: {},
      contentType: 'application/octet-stream',
    });
    const db = await driver.open();
    const report = await rebuild(store, db, 'ev');
    expect(report.incidents).toBe(2);
    expect(report.unexpected).toEqual([{ key: 'ev/pz1/cam1/INC1/deeper/x', reason: 'not <device>/<incident>/<file>' }]);
    await db.close();
  });

  test('names a bad closing manifest and marks its incident failed; the rest is indexed', async () => {
    const store = await bucket();
    await putVerified(store, {
      key: 'ev/pz2/cam9/INC7/incident.manifest.json',
      source: Buffer.from('{not json'),
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(T0 + DAY) },
      metadata: {},
      contentType: 'application/json',
    });
    const db = await driver.open();
    const report = await rebuild(store, db, 'ev');
    expect(report.incidents).toBe(2);
    expect(report.unexpected.map((u) => u.key)).toEqual(['ev/pz2/cam9/INC7/incident.manifest.json']);
    expect(await incidentDetail(db, 'pz2', 'cam9', 'INC7')).toMatchObject({ verification: 'failed', closed: true });
    expect(await incidentDetail(db, 'pz1', 'cam1', 'INC1')).toMatchObject({ verification: 'unverified' });
    await db.close();
  });

  test('reads an integer beyond exact integers as an error, never rounded', async () => {
    const db = await driver.open();
    await db.run('CREATE TABLE big (n BIGINT NOT NULL)');
    await db.run('INSERT INTO big (n) VALUES (9007199254740991), (9007199254740993)');
    expect(await db.all('SELECT n FROM big WHERE n < 9007199254740992')).toEqual([{ n: Number.MAX_SAFE_INTEGER }]);
    await expect(db.all('SELECT n FROM big')).rejects.toMatchObject({
      code: ErrorCode.STORAGE_INDEX,
      message: expect.stringContaining('9007199254740993'),
    });
    await db.close();
  });

  test('a rebuild that fails part-way leaves the previous index as it was', async () => {
    const store = await bucket();
    const db = await driver.open();
    await rebuild(store, db, 'ev');
    const before = await listIncidents(db);
    await put(store, 'pz3', 'cam4', 'INC9', '0000.mp4.age', Buffer.alloc(10, 4), 100);
    const head = await store.head('ev/pz1/cam1/INC1/0000.mp4.age');
    if (head === null) throw new Error('no object');
    await store.setLegalHold(head.key, head.versionId, true);

    await expect(rebuild(store, failingAt(db, 2), 'ev')).rejects.toThrow('disk full');
    expect(await listIncidents(db)).toEqual(before);

    // The same rebuild that does not fail replaces every row at once.
    expect((await rebuild(store, db, 'ev')).incidents).toBe(3);
    const now = await listIncidents(db);
    expect(now.map((r) => [r.incident, r.held])).toEqual([
      ['INC1', true],
      ['INC7', false],
      ['INC9', false],
    ]);
    await db.close();
  });

  test('lists in activation order, incidents without one last, names compared byte-wise', async () => {
    const store = await bucket();
    // Byte-wise 'Zcam' < 'acam'; a language's collation (the PostgreSQL cluster's default, ICU en-US) says otherwise.
    await put(store, 'pz2', 'acam', 'INC8', '0000.mp4.age', Buffer.alloc(5, 5), 100);
    await put(store, 'pz2', 'Zcam', 'INC6', '0000.mp4.age', Buffer.alloc(5, 6), 100);
    const db = await driver.open();
    await rebuild(store, db, 'ev');
    expect((await listIncidents(db)).map((r) => `${r.device}/${r.incident}`)).toEqual([
      'cam1/INC1',
      'Zcam/INC6',
      'acam/INC8',
      'cam9/INC7',
    ]);
    expect((await listIncidents(db, { to: '2026-06-01T10:00:00.001Z' })).map((r) => r.incident)).toEqual(['INC1']);
    expect(await listIncidents(db, { to: '2026-06-01T10:00:00Z' })).toEqual([]);
    expect(await listIncidents(db, { to: '2026-06-01T12:00:00+02:00' })).toEqual([]);
    expect((await listIncidents(db, { from: '2026-06-01T10:00:00Z' })).map((r) => r.incident)).toEqual(['INC1']);
    expect((await listIncidents(db, { from: '2026-06-01', to: '2026-06-02' })).map((r) => r.incident)).toEqual([
      'INC1',
    ]);
    for (const bad of ['2026-06-01T10:00', 'yesterday', '2026-13-01']) {
      await expect(listIncidents(db, { from: bad })).rejects.toMatchObject({ code: ErrorCode.USAGE });
    }
    await db.close();
  });
});

describe('vault index on PostgreSQL: a server that cannot be reached', () => {
  it.each([
    ['a loopback port with no server', async () => ({ host: '127.0.0.1', port: await freePort() }), '127.0.0.1:'],
    [
      'a unix socket directory with no server',
      async () => ({ host: join(mkdtempSync(join(tmpdir(), 'vault-pg-')), 'none'), port: 5432 }),
      '/none/.s.PGSQL.5432',
    ],
  ])('%s is a BodycamError naming where it looked', async (_name, where, named) => {
    const at = await where();
    const err = await openPostgresIndex({ ...at, database: 'index', user: 'custody', password: 'secret-word' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BodycamError);
    const e = err as BodycamError;
    expect(e.code).toBe(ErrorCode.STORAGE_INDEX);
    expect(e.message).toContain('cannot reach the PostgreSQL index at ');
    expect(e.message).toContain(named);
    if (named === '127.0.0.1:') expect(e.message).toContain(`127.0.0.1:${at.port} (database index, user custody)`);
    expect(e.message).toMatch(/ECONNREFUSED|ENOENT/);
    expect(e.message).not.toContain('secret-word');
    expect(e.message).not.toContain('\n');
  });
});

describe.skipIf(POSTGRES_MISSING.length > 0)(
  `vault index on PostgreSQL: a server that goes away${POSTGRES_MISSING.length > 0 ? ` ${POSTGRES_SKIP}` : ''}`,
  () => {
    it('makes the next statement a BodycamError naming it, and the process carries on', async () => {
      const own = await startPostgres();
      try {
        const db = await openPostgresIndex(await own.createDatabase());
        await rebuild(await bucket(), db, 'ev');
        expect(await listIncidents(db)).toHaveLength(2);
        // A fast shutdown ends the pool's idle connections (an 'error' on the pool) and refuses new ones.
        await own.stop();
        const err = await listIncidents(db).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(BodycamError);
        expect(err).toMatchObject({ code: ErrorCode.STORAGE_INDEX });
        expect((err as Error).message).toContain(`the PostgreSQL index at 127.0.0.1:${own.port} (database index_1`);
        await db.close();
      } finally {
        await own.stop();
      }
    }, 60_000);
  },
);

describe('vault index SQL', () => {
  it('numbers placeholders for PostgreSQL', () => {
    expect(numberPlaceholders('a = ? AND b = ? OR c = ?')).toBe('a = $1 AND b = $2 OR c = $3');
  });
});
