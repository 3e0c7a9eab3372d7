/**
 * The dock's staging in front of its object store (src/dock/store/staged.ts), on the in-memory store behind the same
 * port as Ceph's, switched off and on: what the store does not take waits durably at the dock (the write returns, so
 * the camera is receipted), is written in arrival order once the store answers, survives a restart, and a write the
 * store refuses holds back nothing else. The real gateway killed during uploads is test/integration/store/dock-s3-outage.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKLOG_MIGRATION } from '../../../src/dock/store/backlog.ts';
import { S3EvidenceStore } from '../../../src/dock/store/s3-evidence-store.ts';
import { StagedEvidenceStore } from '../../../src/dock/store/staged.ts';
import { DOCK_MIGRATIONS, Progress } from '../../../src/dock/sync/progress.ts';
import { sha256Hex } from '../../../src/evidence/canonical.ts';
import { dockingLine, signDocking } from '../../../src/evidence/docking.ts';
import { keyId } from '../../../src/evidence/keys.ts';
import { DEFAULT_RETENTION } from '../../../src/evidence/retention.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { BodycamError, ErrorCode } from '../../../src/lib/errors.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { Database } from '../../../src/lib/sqlite.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import type { ObjectStore } from '../../../src/store/port.ts';
import { incomingFile, makeRecording, type Recording } from '../../harness/recording.ts';
import { wrapStore } from '../../harness/store-wrap.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const root = { prefix: 'bodycam', organisation: 'pz5339' };

/** A store that answers or not, as the test says; `refuse` makes it deny writes under keys matching it. */
function switchable(objects: MemoryObjectStore) {
  const state = { down: false, writes: 0, refuse: null as RegExp | null };
  const gone = () => new BodycamError(ErrorCode.STORE_UNREACHABLE, 'the store did not answer (test)');
  const guard =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (state.down) throw gone();
      return f(...a);
    };
  const store: ObjectStore = wrapStore(objects, {
    head: guard((k: string) => objects.head(k)),
    get: guard((k: string) => objects.get(k)),
    put: guard(async (input: Parameters<ObjectStore['put']>[0]) => {
      if (state.refuse?.test(input.key)) throw new BodycamError(ErrorCode.STORE_DENIED, `refused ${input.key} (test)`);
      state.writes++;
      return objects.put(input);
    }),
    list: (prefix: string) => {
      if (state.down) throw gone();
      return objects.list(prefix);
    },
  });
  return { store, state };
}

async function keys(store: MemoryObjectStore): Promise<string[]> {
  const out = [];
  for await (const e of store.list('')) out.push(e.key);
  return out.sort();
}

function scene() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-staged-'));
  dirs.push(dir);
  const objects = new MemoryObjectStore();
  const { store, state } = switchable(objects);
  const clock = new FakeClock({ wallNow: Date.now() });
  const s3 = new S3EvidenceStore({ store, root, policy: DEFAULT_RETENTION, now: () => clock.wallNow() });
  const open = () => {
    const progress = Progress.open(dir, { wallNow: () => clock.wallNow() });
    const staged = new StagedEvidenceStore({
      store: s3,
      backlog: progress.backlog,
      stagingDir: path.join(dir, 'staging'),
      clock,
      log: silentLogger(),
      retryMs: 1000,
      retryMaxMs: 8000,
    });
    return { progress, staged };
  };
  return { dir, objects, state, clock, s3, open };
}

/** Hands a whole recording to `store` as the dock agent would; returns the incoming files it gave. */
async function handOver(store: StagedEvidenceStore | S3EvidenceStore, dir: string, rec: Recording): Promise<string[]> {
  const sources = [];
  await store.putDeviceKey(rec.device, rec.publicPem);
  for (const seg of rec.segments) {
    const source = await incomingFile(dir, seg);
    sources.push(source);
    await store.putSegment(rec.device, rec.incident, seg.file, source, seg.manifestText);
  }
  await store.putClosing(rec.device, rec.incident, rec.closingText);
  await store.appendAudit(rec.device, rec.auditLines.join(''));
  return sources;
}

describe('staging in front of the object store', () => {
  it('keeps what the store does not take at the dock, receipt-ready, and writes it once the store answers', async () => {
    const s = scene();
    const rec = makeRecording({ startMs: Date.now() - 10 * 60_000, sizes: [3000, 2000, 1000], auditEntries: 3 });
    // What the same recording becomes when the store answers throughout: the keys to expect.
    const reference = new MemoryObjectStore();
    const direct = new S3EvidenceStore({ store: reference, root, policy: DEFAULT_RETENTION });
    await handOver(direct, s.dir, rec);

    const { progress, staged } = s.open();
    await staged.start();
    s.state.down = true;
    const sources = await handOver(staged, s.dir, rec);
    // Every call returned: each segment moved off the incoming path into staging, nothing in the store.
    for (const f of sources) expect(existsSync(f)).toBe(false);
    const stagedNames = progress.backlog.all().flatMap((r) => (r.staged === null ? [] : [r.staged]));
    expect(stagedNames).toHaveLength(3);
    for (const n of stagedNames) expect(n).toMatch(/^[0-9a-f-]{36}\.seg$/);
    expect(readdirSync(path.join(s.dir, 'staging')).sort()).toEqual([...stagedNames].sort());
    expect(await keys(s.objects)).toEqual([]);
    const summary = progress.backlog.summary();
    expect(summary).toMatchObject({ waiting: 6, segments: 3 });
    expect(summary.bytes).toBe(6000 + rec.publicPem.length + rec.closingText.length + rec.auditLines.join('').length);
    // The dock answers "held" from staging, so a camera re-offering gets its receipt again.
    const [a] = rec.segments;
    if (a === undefined) throw new Error('no segment');
    const expectA = { bytes: a.bytes.length, sha256: sha256Hex(a.bytes) };
    expect(await staged.holdsSegment(rec.device, rec.incident, a.file, expectA)).toBe(true);
    expect(await staged.holdsSegment(rec.device, rec.incident, a.file, { ...expectA, bytes: 1 })).toBe(false);
    expect(await staged.holdsClosing(rec.device, rec.incident, rec.closingText)).toBe(true);
    expect(await staged.holdsClosing(rec.device, rec.incident, `${rec.closingText} `)).toBe(false);

    // Retries back off while the store stays down, and the row keeps the store's last answer.
    await s.clock.advance(30_000);
    expect(progress.backlog.summary()).toMatchObject({ waiting: 6, lastError: 'the store did not answer (test)' });
    expect(progress.backlog.oldest()?.attempts).toBeGreaterThanOrEqual(3);
    expect(progress.backlog.oldest()?.attempts).toBeLessThanOrEqual(6);

    s.state.down = false;
    await s.clock.advance(8000);
    expect(progress.backlog.summary()).toMatchObject({ waiting: 0, bytes: 0, oldestMs: null });
    expect(readdirSync(path.join(s.dir, 'staging'))).toEqual([]);
    expect(await keys(s.objects)).toEqual(await keys(reference));
    const got = [];
    for await (const c of await s.objects.get(`bodycam/pz5339/${rec.device}/${rec.incident}/0000.mp4.age`)) {
      got.push(c as Buffer);
    }
    expect(Buffer.concat(got)).toEqual(a.bytes);
    // Once nothing waits, writes go straight through again.
    const other = makeRecording({ device: 'cam-0043', sizes: [100] });
    const [seg] = other.segments;
    if (seg === undefined) throw new Error('no segment');
    await staged.putSegment(other.device, other.incident, seg.file, await incomingFile(s.dir, seg), seg.manifestText);
    expect(progress.backlog.isEmpty()).toBe(true);
    expect(await keys(s.objects)).toContain(`bodycam/pz5339/cam-0043/${other.incident}/0000.mp4.age`);
    await staged.stop();
    progress.close();
  });

  it('while anything waits, a new write waits behind it even when the store answers: the store sees arrival order', async () => {
    const s = scene();
    const rec = makeRecording({ startMs: Date.now() - 10 * 60_000, sizes: [100, 200], auditEntries: 2 });
    const { progress, staged } = s.open();
    await staged.start();
    const [a, b] = rec.segments;
    if (a === undefined || b === undefined) throw new Error('no segments');
    s.state.down = true;
    await staged.putSegment(rec.device, rec.incident, a.file, await incomingFile(s.dir, a), a.manifestText);
    s.state.down = false;
    await staged.putSegment(rec.device, rec.incident, b.file, await incomingFile(s.dir, b), b.manifestText);
    expect(await keys(s.objects)).toEqual([]);
    expect(progress.backlog.all().map((r) => r.file)).toEqual([a.file, b.file]);
    await s.clock.advance(2000);
    expect(progress.backlog.isEmpty()).toBe(true);
    expect(await keys(s.objects)).toHaveLength(4);
    await staged.stop();
    progress.close();
  });

  it('two cameras staging at the same moment each keep their own file, and both go up whole', async () => {
    const s = scene();
    const one = makeRecording({ device: 'cam-0001', sizes: [3000] });
    const two = makeRecording({ device: 'cam-0002', sizes: [5000] });
    const { progress, staged } = s.open();
    await staged.start();
    s.state.down = true;
    const hand = async (rec: Recording) => {
      const [seg] = rec.segments;
      if (seg === undefined) throw new Error('no segment');
      const dir = path.join(s.dir, rec.device);
      mkdirSync(dir, { recursive: true });
      await staged.putSegment(rec.device, rec.incident, seg.file, await incomingFile(dir, seg), seg.manifestText);
    };
    await Promise.all([hand(one), hand(two)]);
    expect(new Set(progress.backlog.all().map((r) => r.staged)).size).toBe(2);
    s.state.down = false;
    await s.clock.advance(1000);
    expect(progress.backlog.isEmpty()).toBe(true);
    for (const rec of [one, two]) {
      const got = [];
      for await (const c of await s.objects.get(`bodycam/pz5339/${rec.device}/${rec.incident}/0000.mp4.age`)) {
        got.push(c as Buffer);
      }
      expect(Buffer.concat(got)).toEqual(rec.segments[0]?.bytes);
    }
    await staged.stop();
    progress.close();
  });

  it('survives a restart: what waited is written after it; a staged file no row names (a crash between) is removed', async () => {
    const s = scene();
    const rec = makeRecording({ startMs: Date.now() - 10 * 60_000, sizes: [500, 600], auditEntries: 2 });
    const first = s.open();
    await first.staged.start();
    s.state.down = true;
    await handOver(first.staged, s.dir, rec);
    // The process dies (its timers with it): a move into staging whose row never committed is left behind, and an
    // upload link of a staged segment.
    await first.staged.stop();
    const firstStaged = first.progress.backlog.all().find((r) => r.staged !== null)?.staged;
    first.progress.close();
    writeFileSync(path.join(s.dir, 'staging', '99.seg'), 'never receipted');
    writeFileSync(path.join(s.dir, 'staging', `${firstStaged}.up`), 'half an upload');
    s.state.down = false;

    const second = s.open();
    expect(second.progress.backlog.summary().waiting).toBe(5);
    await second.staged.start();
    await s.clock.advance(1000);
    expect(second.progress.backlog.isEmpty()).toBe(true);
    expect(readdirSync(path.join(s.dir, 'staging'))).toEqual([]);
    expect(await keys(s.objects)).toHaveLength(7); // key, 2 × (segment, manifest), closing, audit batch
    await second.staged.stop();
    second.progress.close();
  });

  it('a segment whose upload finished but whose row outlived it (a crash between) is not written twice', async () => {
    const s = scene();
    const rec = makeRecording({ startMs: Date.now() - 10 * 60_000, sizes: [700] });
    const { progress, staged } = s.open();
    await staged.start();
    const [a] = rec.segments;
    if (a === undefined) throw new Error('no segment');
    s.state.down = true;
    await staged.putSegment(rec.device, rec.incident, a.file, await incomingFile(s.dir, a), a.manifestText);
    const row = progress.backlog.oldest();
    if (row === undefined) throw new Error('nothing staged');
    // The store got it (as the catch-up would have), then the process died before the row was done.
    s.state.down = false;
    await s.s3.putSegment(rec.device, rec.incident, a.file, await incomingFile(s.dir, a), a.manifestText);
    const writes = s.state.writes;
    await s.clock.advance(1000);
    expect(progress.backlog.isEmpty()).toBe(true);
    expect(s.state.writes).toBe(writes); // write-once: the same bytes are found, not sent again
    let versions = 0;
    const key = `bodycam/pz5339/${rec.device}/${rec.incident}/0000.mp4.age`;
    for await (const v of s.objects.listVersions(key)) if (v.key === key && !v.deleteMarker) versions++;
    expect(versions).toBe(1);
    await staged.stop();
    progress.close();
  });

  it('a write the store refuses waits with its reason and holds back nothing else; a refusal up front is not staged', async () => {
    const s = scene();
    const rec = makeRecording({ startMs: Date.now() - 10 * 60_000, sizes: [100], auditEntries: 2 });
    const { progress, staged } = s.open();
    await staged.start();
    s.state.down = true;
    await handOver(staged, s.dir, rec);
    s.state.down = false;
    s.state.refuse = /device\.pub$/;
    await s.clock.advance(1000);
    const left = progress.backlog.all();
    expect(left.map((r) => r.op)).toEqual(['device-key']);
    expect(left[0]?.lastError).toMatch(/refused .*device\.pub/);
    expect(progress.backlog.summary()).toMatchObject({ waiting: 1, refused: 1 });
    expect((await keys(s.objects)).filter((k) => k.endsWith('.age'))).toHaveLength(1);
    // What the store refused holds back nothing: another camera's write goes straight through meanwhile.
    const next = makeRecording({ device: 'cam-0044', sizes: [100] });
    const [n] = next.segments;
    if (n === undefined) throw new Error('no segment');
    await staged.putSegment(next.device, next.incident, n.file, await incomingFile(s.dir, n), n.manifestText);
    expect(await keys(s.objects)).toContain(`bodycam/pz5339/cam-0044/${next.incident}/0000.mp4.age`);
    expect(progress.backlog.summary()).toMatchObject({ waiting: 1, refused: 1 });
    // Refused rows are asked again at the slowest pace, and go once the store takes them.
    s.state.refuse = null;
    await s.clock.advance(8000);
    expect(progress.backlog.isEmpty()).toBe(true);

    // A store that answers "no" straight away is not an outage: the caller hears it, and keeps its file.
    s.state.refuse = /0000\.mp4\.age$/;
    const other = makeRecording({ device: 'cam-0043', sizes: [100] });
    const [seg] = other.segments;
    if (seg === undefined) throw new Error('no segment');
    const source = await incomingFile(s.dir, seg);
    await expect(staged.putSegment(other.device, other.incident, seg.file, source, seg.manifestText)).rejects.toThrow(
      /refused/,
    );
    expect(existsSync(source)).toBe(true);
    expect(progress.backlog.isEmpty()).toBe(true);
    await staged.stop();
    progress.close();
  });

  it('a staged segment altered on the dock disk is refused by the store, not stored under its manifest', async () => {
    const s = scene();
    const rec = makeRecording({ startMs: Date.now() - 10 * 60_000, sizes: [4000] });
    const { progress, staged } = s.open();
    await staged.start();
    const [a] = rec.segments;
    if (a === undefined) throw new Error('no segment');
    s.state.down = true;
    await staged.putSegment(rec.device, rec.incident, a.file, await incomingFile(s.dir, a), a.manifestText);
    const forged = Buffer.from(a.bytes);
    forged[2000] = (forged[2000] ?? 0) ^ 0xff;
    writeFileSync(path.join(s.dir, 'staging', progress.backlog.oldest()?.staged ?? ''), forged);
    const expectA = { bytes: a.bytes.length, sha256: sha256Hex(a.bytes) };
    expect(await staged.holdsSegment(rec.device, rec.incident, a.file, expectA)).toBe(false);
    s.state.down = false;
    await s.clock.advance(1000);
    expect(await keys(s.objects)).toEqual([]);
    expect(progress.backlog.oldest()?.lastError).toMatch(/differs from its digests/);
    await staged.stop();
    progress.close();
  });

  it('remembers the last docking record it signed, so a dock whose store is down still links the next one', async () => {
    const s = scene();
    const rec = makeRecording({ sizes: [100] });
    const { progress, staged } = s.open();
    await staged.start();
    const dock = generateKeyPairSync('ed25519');
    const heads = { chain: { seq: 0, hash: 'a'.repeat(64) }, audit: null };
    const record = signDocking(
      { device: rec.device, at: new Date().toISOString(), ...heads },
      null,
      dock.privateKey,
      keyId(dock.publicKey),
    );
    s.state.down = true;
    await expect(staged.lastDocking(rec.device)).rejects.toThrow(/did not answer/);
    await staged.appendDocking(rec.device, dockingLine(record));
    expect(`${await staged.lastDocking(rec.device)}\n`).toBe(dockingLine(record));
    s.state.down = false;
    await s.clock.advance(1000);
    expect(await keys(s.objects)).toEqual([`bodycam/pz5339/${rec.device}/dockings/000000000000.json`]);
    // Stored, the store's is the newest again; while it does not answer, the one this dock signed last stands in.
    expect(`${await staged.lastDocking(rec.device)}\n`).toBe(dockingLine(record));
    s.state.down = true;
    expect(`${await staged.lastDocking(rec.device)}\n`).toBe(dockingLine(record));
    await staged.stop();
    progress.close();
  });
});

describe('the backlog in dock.sqlite', () => {
  it('comes to a dock database of the release before it, which keeps its rows', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-backlog-'));
    dirs.push(dir);
    const before = Database.open(path.join(dir, 'dock.sqlite'), {
      migrations: DOCK_MIGRATIONS.filter((m) => m.version < BACKLOG_MIGRATION.version),
    });
    expect(before.version).toBe(BACKLOG_MIGRATION.version - 1);
    before.run(
      `INSERT INTO transfers (device, incident, seq, file, bytes, sha256, state, updated_at)
       VALUES ('cam', 'inc', 0, '0000.mp4.age', 10, 'ab', 'stored', '2026-12-01T00:00:00Z')`,
    );
    before.close();
    const p = Progress.open(dir);
    expect(p.transfer('cam', 'inc', 0)?.state).toBe('stored');
    expect(p.backlog.summary()).toEqual({
      waiting: 0,
      segments: 0,
      bytes: 0,
      oldestMs: null,
      lastError: null,
      refused: 0,
    });
    p.close();
  });
});
