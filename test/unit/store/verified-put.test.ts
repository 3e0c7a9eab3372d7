import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BodycamError, ErrorCode } from '../../../src/lib/errors.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import type { ObjectHead, ObjectStore, PartInput } from '../../../src/store/port.ts';
import {
  digestBuffer,
  digestFile,
  headProblems,
  multipartEtag,
  type PutPlan,
  putVerified,
} from '../../../src/store/verified-put.ts';
import { wrapStore } from '../../harness/store-wrap.ts';

const DAY = 86_400_000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-vput-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const retention = () => ({ mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + 30 * DAY) }) as const;
const PLAN: PutPlan = { partBytes: 1000, multipartAboveBytes: 2500 };
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

/** The store, with `putPart` calls counted and made to fail from call `failAt` on (a gateway gone mid-upload). */
function flaky(store: ObjectStore, failAt = Number.POSITIVE_INFINITY): ObjectStore & { partCalls: number[] } {
  const calls: number[] = [];
  const wrapped = wrapStore(store, {
    putPart: async (p: PartInput) => {
      calls.push(p.partNumber);
      if (calls.length >= failAt) throw new BodycamError(ErrorCode.STORE_UNREACHABLE, 'gone');
      return store.putPart(p);
    },
  });
  return Object.assign(wrapped, { partCalls: calls });
}

describe('digests', () => {
  it('cuts a body into parts and digests each, the same from memory and from a file', async () => {
    const bytes = randomBytes(2500);
    const file = path.join(dir, 'digest');
    writeFileSync(file, bytes);
    const d = digestBuffer(bytes, 1000);
    expect(d.parts.map((p) => [p.partNumber, p.start, p.size])).toEqual([
      [1, 0, 1000],
      [2, 1000, 1000],
      [3, 2000, 500],
    ]);
    expect(d.parts[2]?.md5).toEqual(md5(bytes.subarray(2000)));
    expect(d.sha256).toEqual(createHash('sha256').update(bytes).digest());
    expect(await digestFile(file, 1000)).toEqual(d);
    expect(digestBuffer(Buffer.alloc(0), 1000).parts).toHaveLength(1);
    expect(multipartEtag(d.parts)).toBe(`${md5(Buffer.concat(d.parts.map((p) => p.md5))).toString('hex')}-3`);
  });
});

describe('headProblems', () => {
  const bytes = Buffer.from('abc');
  const d = digestBuffer(bytes, 1000);
  const ok: ObjectHead = {
    key: 'k',
    versionId: 'v',
    etag: md5(bytes).toString('hex'),
    size: 3,
    lastModified: new Date(),
    metadata: { sha256: d.sha256.toString('hex') },
    retention: retention(),
  };
  it.each<[string, Partial<ObjectHead>, string[]]>([
    ['as sent', {}, []],
    ['another size', { size: 4 }, ['size 4, sent 3']],
    ['another ETag', { etag: 'ff' }, [`ETag ff, expected ${ok.etag}`]],
    ['no SHA-256 metadata', { metadata: {} }, [`SHA-256 metadata (none), sent ${d.sha256.toString('hex')}`]],
    ['no retention', { retention: null }, ['no retention']],
    ['GOVERNANCE', { retention: { mode: 'GOVERNANCE', retainUntil: new Date() } }, ['retention mode GOVERNANCE']],
  ])('%s', (_why, change, problems) => {
    expect(headProblems({ ...ok, ...change }, d, ok.etag, retention())).toEqual(problems);
  });
});

describe('putVerified', () => {
  it('writes once: the same bytes again write nothing; other bytes are a conflict', async () => {
    const store = new MemoryObjectStore();
    const put = (source: Buffer) =>
      putVerified(
        store,
        { key: 'k', source, retention: retention(), metadata: { recorded: 'r' }, contentType: 'x' },
        PLAN,
      );
    const first = await put(Buffer.from('one'));
    expect(first.already).toBe(false);
    expect((await store.head('k'))?.metadata).toEqual({ recorded: 'r', sha256: first.sha256 });
    const again = await put(Buffer.from('one'));
    expect(again).toMatchObject({ already: true, version: { versionId: first.version.versionId } });
    await expect(put(Buffer.from('two'))).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    const versions = [];
    for await (const v of store.listVersions('k')) versions.push(v.versionId);
    expect(versions).toEqual([first.version.versionId]);
  });

  it('extends the lock of an object already there when asked for a later one', async () => {
    const store = new MemoryObjectStore();
    const source = Buffer.from('key');
    await putVerified(store, { key: 'k', source, retention: retention(), metadata: {}, contentType: 'x' }, PLAN);
    const later = { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + 60 * DAY) } as const;
    await putVerified(store, { key: 'k', source, retention: later, metadata: {}, contentType: 'x' }, PLAN);
    expect((await store.head('k'))?.retention).toEqual(later);
  });

  it("refuses to count as stored a put whose answer names other bytes (its ETag: the store's MD5)", async () => {
    const store = new MemoryObjectStore();
    const lying = wrapStore(store, {
      put: async (input) => ({ ...(await store.put(input)), etag: 'ffff' }),
    });
    await expect(
      putVerified(
        lying,
        { key: 'k', source: Buffer.from('abc'), retention: retention(), metadata: {}, contentType: 'x' },
        PLAN,
      ),
    ).rejects.toMatchObject({ code: 'STORE_MISMATCH', message: expect.stringContaining('ETag ffff, expected') });
  });

  it('reads a multipart object back with HEAD and refuses one the store reports otherwise', async () => {
    const store = new MemoryObjectStore();
    const lying = wrapStore(store, {
      head: async (key: string, versionId?: string) => {
        const h = await store.head(key, versionId);
        return h === null || versionId === undefined ? h : { ...h, size: h.size - 1 };
      },
    });
    const source = randomBytes(3000);
    await expect(
      putVerified(lying, { key: 'k', source, retention: retention(), metadata: {}, contentType: 'x' }, PLAN),
    ).rejects.toMatchObject({ code: 'STORE_MISMATCH', message: expect.stringContaining('size 2999, sent 3000') });
  });

  it('takes a SHA-256 the caller vouches for without hashing, and the store refuses it if it is wrong', async () => {
    const store = new MemoryObjectStore();
    const source = Buffer.from('segment');
    const right = createHash('sha256').update(source).digest('hex');
    const input = { key: 'k', source, retention: retention(), metadata: {}, contentType: 'x' };
    await expect(putVerified(store, { ...input, sha256: 'ab'.repeat(32) }, PLAN)).rejects.toMatchObject({
      code: 'STORE_MISMATCH',
    });
    expect((await putVerified(store, { ...input, sha256: right }, PLAN)).sha256).toBe(right);
  });

  it('refuses a body going up in parts whose SHA-256 is not the one vouched for, sending nothing', async () => {
    const bytes = randomBytes(4500);
    const right = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(dir, 'changed');
    bytes[3000] = (bytes[3000] ?? 0) ^ 0xff; // changed on disk after it was verified
    writeFileSync(file, bytes);
    const store = new MemoryObjectStore();
    const input = {
      key: 'changed',
      source: file,
      retention: retention(),
      metadata: {},
      contentType: 'x',
      sha256: right,
    };
    await expect(putVerified(store, input, PLAN)).rejects.toMatchObject({
      code: 'STORE_MISMATCH',
      message: expect.stringContaining(`not the ${right} it must be`),
    });
    expect(await store.head('changed')).toBeNull();
    expect(await store.uploads('changed')).toEqual([]);
  });

  it('sends a large file in parts, and after an interruption sends only the parts the store lacks', async () => {
    const bytes = randomBytes(4500);
    const file = path.join(dir, 'large');
    writeFileSync(file, bytes);
    const store = new MemoryObjectStore();
    const input = { key: 'big', source: file, retention: retention(), metadata: {}, contentType: 'x' };
    const broken = flaky(store, 3);
    await expect(putVerified(broken, input, PLAN)).rejects.toMatchObject({ code: 'STORE_UNREACHABLE' });
    expect(broken.partCalls).toEqual([1, 2, 3]);
    const pending = await store.uploads('big');
    expect(pending).toHaveLength(1);
    expect((await store.parts('big', pending[0]?.uploadId ?? '')).map((p) => p.partNumber)).toEqual([1, 2]);

    const resumed = flaky(store);
    const out = await putVerified(resumed, input, PLAN);
    expect(resumed.partCalls).toEqual([3, 4, 5]);
    expect(out.size).toBe(4500);
    expect(await store.uploads('big')).toEqual([]);
    const head = await store.head('big');
    expect(head?.etag).toBe(multipartEtag(digestBuffer(bytes, 1000).parts));
    const got = [];
    for await (const c of await store.get('big')) got.push(c as Buffer);
    expect(Buffer.concat(got)).toEqual(bytes);
  });

  it('drops a pending upload that holds parts of other bytes, and starts again', async () => {
    const store = new MemoryObjectStore();
    const other = randomBytes(4500);
    const mine = randomBytes(4500);
    await expect(
      putVerified(
        flaky(store, 2),
        { key: 'big', source: other, retention: retention(), metadata: {}, contentType: 'x' },
        PLAN,
      ),
    ).rejects.toBeDefined();
    const stale = (await store.uploads('big'))[0]?.uploadId;
    const again = flaky(store);
    await putVerified(
      again,
      { key: 'big', source: mine, retention: retention(), metadata: {}, contentType: 'x' },
      PLAN,
    );
    expect(again.partCalls).toEqual([1, 2, 3, 4, 5]);
    expect((await store.uploads('big')).map((u) => u.uploadId)).not.toContain(stale);
    expect((await store.head('big'))?.metadata['sha256']).toBe(createHash('sha256').update(mine).digest('hex'));
  });
});
