/**
 * The index's verification state from the evidence verifier (src/vault/index/verify-incidents.ts), on the in-memory
 * store: a docked incident is `verified` with its device's key from provisioning, `unverified` without one, `failed`
 * under another key or once an object is rewritten in the bucket; a rebuild with nothing changed reads no object again.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { S3EvidenceStore } from '../../../src/dock/store/s3-evidence-store.ts';
import { generateDeviceKeys, loadPublicKey } from '../../../src/evidence/keys.ts';
import type { Finding } from '../../../src/evidence/report.ts';
import { DEFAULT_RETENTION } from '../../../src/evidence/retention.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import type { ObjectStore } from '../../../src/store/port.ts';
import { incidentDetail } from '../../../src/vault/index/query.ts';
import { rebuild } from '../../../src/vault/index/rebuild.ts';
import { openSqliteIndex } from '../../../src/vault/index/sql.ts';
import { BucketVerifier, incidentState } from '../../../src/vault/index/verify-incidents.ts';
import { incomingFile, makeRecording } from '../../harness/recording.ts';
import { wrapStore } from '../../harness/store-wrap.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-verify-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = { prefix: 'bodycam', organisation: 'pz5339' };

async function docked() {
  const rec = makeRecording({ startMs: Date.now() - 10 * 60_000, sizes: [900, 800], auditEntries: 5 });
  const objects = new MemoryObjectStore();
  const store = new S3EvidenceStore({ store: objects, root, policy: DEFAULT_RETENTION });
  await store.putDeviceKey(rec.device, rec.publicPem);
  for (const seg of rec.segments) {
    await store.putSegment(rec.device, rec.incident, seg.file, await incomingFile(dir, seg), seg.manifestText);
  }
  await store.putClosing(rec.device, rec.incident, rec.closingText);
  await store.appendAudit(rec.device, rec.auditLines.join(''));
  return { rec, objects };
}

/** The store, counting the objects read from it. */
function counting(store: ObjectStore): { store: ObjectStore; reads: () => number } {
  let n = 0;
  const wrapped = wrapStore(store, {
    get: (key, versionId) => {
      n++;
      return store.get(key, versionId);
    },
  });
  return { store: wrapped, reads: () => n };
}

async function state(objects: ObjectStore, verifier: BucketVerifier, device: string, incident: string) {
  const db = openSqliteIndex(path.join(mkdtempSync(path.join(dir, 'db-')), 'index.sqlite'));
  try {
    await rebuild(objects, db, 'bodycam', verifier.forRebuild());
    return (await incidentDetail(db, 'pz5339', device, incident))?.verification;
  } finally {
    await db.close();
  }
}

describe("the index's verification state", () => {
  it('verified with the provisioned key, unverified without one, failed under another key', async () => {
    const { rec, objects } = await docked();
    const own = new BucketVerifier({ devices: new Map([[rec.device, loadPublicKey(rec.publicPem)]]), docks: [] });
    expect(await state(objects, own, rec.device, rec.incident)).toBe('verified');
    const none = new BucketVerifier({ devices: new Map(), docks: [] });
    expect(await state(objects, none, rec.device, rec.incident)).toBe('unverified');
    const other = loadPublicKey(generateDeviceKeys().publicPem);
    const wrong = new BucketVerifier({ devices: new Map([[rec.device, other]]), docks: [] });
    expect(await state(objects, wrong, rec.device, rec.incident)).toBe('failed');
  });

  it('keeps a device’s result while its objects stay the same, and fails the incident once one is rewritten', async () => {
    const { rec, objects } = await docked();
    const verifier = new BucketVerifier({ devices: new Map([[rec.device, loadPublicKey(rec.publicPem)]]), docks: [] });
    const c = counting(objects);
    expect(await state(c.store, verifier, rec.device, rec.incident)).toBe('verified');
    const first = c.reads();
    expect(first).toBeGreaterThan(rec.segments.length);
    expect(await state(c.store, verifier, rec.device, rec.incident)).toBe('verified');
    // The second rebuild read the closing manifest again (the index's facts), not the evidence.
    expect(c.reads() - first).toBeLessThanOrEqual(1);
    const seg = rec.segments[0];
    if (seg === undefined) throw new Error('no segment');
    const key = `bodycam/pz5339/${rec.device}/${rec.incident}/${seg.file}`;
    const forged = Buffer.alloc(seg.bytes.length, 7);
    await objects.put({
      key,
      body: forged,
      size: forged.length,
      md5: createHash('md5').update(forged).digest(),
      sha256: createHash('sha256').update(forged).digest(),
      retention: { mode: 'GOVERNANCE', retainUntil: new Date(Date.now() + 86_400_000) },
      metadata: {},
      contentType: 'application/octet-stream',
    });
    expect(await state(c.store, verifier, rec.device, rec.incident)).toBe('failed');
  });

  it('an error bears on an incident when it names it or names none (the device’s chains and logs)', () => {
    const f = (incident?: string, severity: Finding['severity'] = 'error'): Finding => ({
      severity,
      device: 'cam1',
      code: 'hash-mismatch',
      message: 'x',
      ...(incident === undefined ? {} : { incident }),
    });
    expect(incidentState([], 'A')).toBe('verified');
    expect(incidentState([f('B')], 'A')).toBe('verified');
    expect(incidentState([f('A', 'warning')], 'A')).toBe('verified');
    expect(incidentState([f('A')], 'A')).toBe('failed');
    expect(incidentState([f()], 'A')).toBe('failed');
  });
});
