import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sign } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey } from '../../../src/evidence/keys.ts';
import { incidentManifest, manifestFileText } from '../../../src/evidence/manifest.ts';
import { incidentObject } from '../../../src/evidence/object-keys.ts';
import { retentionMetadata } from '../../../src/evidence/retention.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import { putVerified } from '../../../src/store/verified-put.ts';
import { incidentDetail, listIncidents } from '../../../src/vault/index/query.ts';
import { rebuild } from '../../../src/vault/index/rebuild.ts';
import { numberPlaceholders, openSqliteIndex } from '../../../src/vault/index/sql.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1);
const pair = generateDeviceKeys();
const priv = loadPrivateKey(pair.privatePem);

async function bucket() {
  const store = new MemoryObjectStore({ now: () => T0 });
  const put = (org: string, device: string, incident: string, file: string, body: Buffer, dueDays: number) =>
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
  await put('pz1', 'cam1', 'INC1', '0000.mp4.age', Buffer.alloc(1000, 1), 300);
  await put('pz1', 'cam1', 'INC1', '0001.mp4.age', Buffer.alloc(500, 2), 310);
  await put('pz1', 'cam1', 'INC1', 'incident.manifest.json', Buffer.from(manifestFileText(env)), 305);
  await put('pz2', 'cam9', 'INC7', '0000.mp4.age', Buffer.alloc(70, 3), 200);
  return store;
}

describe('vault index (SQLite)', () => {
  it('rebuilds incidents from the bucket with their facts, filters them, and a rebuild gives the same rows', async () => {
    const store = await bucket();
    const path = join(mkdtempSync(join(tmpdir(), 'vault-index-')), 'index.sqlite');
    const db = openSqliteIndex(path);
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

    const fresh = openSqliteIndex(join(mkdtempSync(join(tmpdir(), 'vault-index-')), 'index.sqlite'));
    await rebuild(store, fresh, 'ev');
    const after = await listIncidents(fresh);
    expect(after).toEqual(before.map((r) => (r.incident === 'INC7' ? { ...r, held: true } : r)));
    await fresh.close();
  });

  it('names keys outside the layout instead of indexing them', async () => {
    const store = await bucket();
    const body = Buffer.from('x');
    await putVerified(store, {
      key: 'ev/pz1/cam1/INC1/deeper/x',
      source: body,
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(T0 + DAY) },
      metadata: {},
      contentType: 'application/octet-stream',
    });
    const db = openSqliteIndex(':memory:');
    const report = await rebuild(store, db, 'ev');
    expect(report.incidents).toBe(2);
    expect(report.unexpected).toEqual([{ key: 'ev/pz1/cam1/INC1/deeper/x', reason: 'not <device>/<incident>/<file>' }]);
    await db.close();
  });

  it('numbers placeholders for PostgreSQL', () => {
    expect(numberPlaceholders('a = ? AND b = ? OR c = ?')).toBe('a = $1 AND b = $2 OR c = $3');
  });
});

describe('vault index: a bad closing manifest', () => {
  it('is named and its incident marked failed; the rest is indexed', async () => {
    const store = await bucket();
    await putVerified(store, {
      key: 'ev/pz2/cam9/INC7/incident.manifest.json',
      source: Buffer.from('{not json'),
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(T0 + DAY) },
      metadata: {},
      contentType: 'application/json',
    });
    const db = openSqliteIndex(':memory:');
    const report = await rebuild(store, db, 'ev');
    expect(report.incidents).toBe(2);
    expect(report.unexpected.map((u) => u.key)).toEqual(['ev/pz2/cam9/INC7/incident.manifest.json']);
    expect(await incidentDetail(db, 'pz2', 'cam9', 'INC7')).toMatchObject({ verification: 'failed', closed: true });
    expect(await incidentDetail(db, 'pz1', 'cam1', 'INC1')).toMatchObject({ verification: 'unverified' });
    await db.close();
  });
});
