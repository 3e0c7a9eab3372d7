/** The stand-in keeps the lock rules the real store enforces (the same cases run against Ceph RGW in integration). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import type { PutInput } from '../../../src/store/port.ts';

const DAY = 86_400_000;
const body = Buffer.from('evidence bytes');
const input = (o: Partial<PutInput> = {}, now = Date.now()): PutInput => ({
  key: 'pz/cam/inc/0000.mp4.age',
  body,
  size: body.length,
  md5: createHash('md5').update(body).digest(),
  sha256: createHash('sha256').update(body).digest(),
  retention: { mode: 'COMPLIANCE', retainUntil: new Date(now + 30 * DAY) },
  metadata: { recorded: 'x' },
  contentType: 'application/octet-stream',
  ...o,
});

describe('MemoryObjectStore', () => {
  it('refuses a body whose MD5 or SHA-256 differs from the given digests', async () => {
    const store = new MemoryObjectStore();
    const other = Buffer.from('other bytes!!!');
    await expect(store.put(input({ body: other }))).rejects.toMatchObject({ code: 'STORE_MISMATCH' });
    await expect(store.put(input({ sha256: createHash('sha256').update(other).digest() }))).rejects.toMatchObject({
      code: 'STORE_MISMATCH',
    });
    expect(await store.head(input().key)).toBeNull();
  });

  it('refuses deleting a locked version, shortening its lock and leaving COMPLIANCE; extending is allowed', async () => {
    let now = Date.now();
    const store = new MemoryObjectStore({ now: () => now });
    const v = await store.put(input({}, now));
    await expect(store.delete(v.key, v.versionId)).rejects.toMatchObject({ code: 'STORE_DENIED' });
    const shorter = { mode: 'COMPLIANCE', retainUntil: new Date(now + DAY) } as const;
    await expect(store.setRetention(v.key, v.versionId, shorter)).rejects.toMatchObject({ code: 'STORE_DENIED' });
    const governance = { mode: 'GOVERNANCE', retainUntil: new Date(now + 40 * DAY) } as const;
    await expect(store.setRetention(v.key, v.versionId, governance)).rejects.toMatchObject({ code: 'STORE_DENIED' });
    await store.setRetention(v.key, v.versionId, { mode: 'COMPLIANCE', retainUntil: new Date(now + 40 * DAY) });
    now += 39 * DAY;
    await expect(store.delete(v.key, v.versionId)).rejects.toMatchObject({ code: 'STORE_DENIED' });
    now += 2 * DAY;
    await store.delete(v.key, v.versionId);
    expect(await store.head(v.key)).toBeNull();
  });

  it('a legal hold blocks deletion after the lock ended, until released', async () => {
    let now = Date.now();
    const store = new MemoryObjectStore({ now: () => now });
    const v = await store.put(input({}, now));
    await store.setLegalHold(v.key, v.versionId, true);
    expect(await store.legalHold(v.key, v.versionId)).toBe(true);
    now += 31 * DAY;
    await expect(store.delete(v.key, v.versionId)).rejects.toMatchObject({ code: 'STORE_DENIED' });
    await store.setLegalHold(v.key, v.versionId, false);
    await store.delete(v.key, v.versionId);
    expect(await store.head(v.key, v.versionId)).toBeNull();
  });

  it('a delete without a version adds a marker; every version stays listed and readable', async () => {
    const store = new MemoryObjectStore();
    const v1 = await store.put(input());
    const marker = await store.delete(v1.key);
    expect(marker.deleteMarker).toBe(true);
    expect(await store.head(v1.key)).toBeNull();
    expect(await store.head(v1.key, v1.versionId)).toMatchObject({ size: body.length });
    const listed = [];
    for await (const e of store.listVersions('pz/'))
      listed.push([e.versionId === v1.versionId, e.deleteMarker, e.isLatest]);
    expect(listed).toEqual([
      [false, true, true],
      [true, false, false],
    ]);
    const latest = [];
    for await (const e of store.list('pz/')) latest.push(e.key);
    expect(latest).toEqual([]);
  });
});
