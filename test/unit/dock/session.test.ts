/**
 * One camera's session at the dock, under fake time: inventories that come while one waits replace it, and one
 * camera's inventories are taken up at most once per INVENTORY_INTERVAL_MS; an ended session stores and receipts
 * nothing more, not even from chunks it took before its end. Real SQLite and files; the dock's transport is a client
 * of the in-memory broker, and a listener on the camera's topics keeps what the dock sends.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateIdentity, parseRecipient } from '../../../src/age/keys.ts';
import { CameraStore } from '../../../src/camera/storage/store.ts';
import { Offload } from '../../../src/camera/sync/offload.ts';
import { limitsSchema } from '../../../src/dock/limits.ts';
import { AuditIntake } from '../../../src/dock/sync/audit-intake.ts';
import { Dockings } from '../../../src/dock/sync/dockings.ts';
import { FilesystemEvidenceStore } from '../../../src/dock/sync/evidence-store.ts';
import { Gate } from '../../../src/dock/sync/gate.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { Replies } from '../../../src/dock/sync/replies.ts';
import { CameraSession, INVENTORY_INTERVAL_MS } from '../../../src/dock/sync/session.ts';
import { sha256Hex } from '../../../src/evidence/canonical.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { DOCK_AGENT_CN } from '../../../src/protocol/acl.ts';
import type { ChunkHeader } from '../../../src/protocol/messages.ts';
import { downFilter, downTopic } from '../../../src/protocol/topics.ts';
import { MemoryTransport } from '../../../src/protocol/transport/memory.ts';
import { MemoryBroker } from '../../../src/protocol/transport/memory-broker.ts';
import { captureLogger, logged } from '../../harness/dock.ts';
import { listen } from '../../harness/memory-sync.ts';
import { storeIncidentIn } from '../../harness/stored-footage.ts';

async function session() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-session-'));
  const camera = generateDeviceKeys();
  const dockKeys = generateDeviceKeys();
  const key = loadPublicKey(camera.publicPem);
  const enrolled = { key, pem: camera.publicPem, keyId: keyId(key) };
  const clock = new FakeClock();
  const broker = new MemoryBroker({ clock });
  const transport = new MemoryTransport({ broker, user: DOCK_AGENT_CN, clock });
  await transport.open();
  const published = await listen(broker, clock, 'cam', [downFilter('cam')]);
  const { logger, lines } = captureLogger();
  const parsed = limitsSchema.safeParse({});
  if (!parsed.ok) throw new Error('limits');
  const limits = parsed.value;
  const progress = Progress.open(dir);
  const store = new FilesystemEvidenceStore(path.join(dir, 'evidence'));
  const deviceKey = () => enrolled;
  const dock = { privateKey: loadPrivateKey(dockKeys.privatePem), keyId: 'dock' };
  const replies = new Replies({ transport, progress, deviceKey, dock, logger, wallNow: () => clock.wallNow() });
  const deps = {
    clock,
    audit: new AuditIntake(progress, store, logger),
    dockings: new Dockings({ progress, store, dock, logger, now: () => clock.wallNow() }),
    progress,
    store,
    incomingDir: path.join(dir, 'incoming'),
    deviceKey,
    limits,
    logger,
    replies,
    gate: new Gate({ transport, deviceKey, limits, clock, logger }),
    freeBytes: async () => 1e12,
    othersWillWrite: () => 0,
    withdraw: () => undefined,
  };
  const make = (id: string, previous?: CameraSession) =>
    new CameraSession({ id, device: 'cam', keyId: enrolled.keyId }, deps, previous);
  const identity = { privateKey: loadPrivateKey(camera.privatePem), publicKey: key, keyId: enrolled.keyId };
  return { s: make('s1'), make, clock, lines, published, key, identity: { ...identity, publicPem: camera.publicPem } };
}

/** The camera's side, as its storage holds it: one closed incident of one signed segment (within one pull). */
async function footage(identity: Awaited<ReturnType<typeof session>>['identity']) {
  const storageDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-session-cam-'));
  const store = CameraStore.open(storageDir);
  const recipients = [parseRecipient(generateIdentity().recipient)];
  const target = { store, storageDir, device: 'cam', recipients, identity, wallNow: Date.now };
  const { incident } = await storeIncidentIn(target, { segments: 1, bytesEach: 600_000 });
  const offload = new Offload({
    store,
    storageDir,
    device: 'cam',
    dockKey: loadPublicKey(generateDeviceKeys().publicPem),
  });
  return {
    inventory: async (session: string) => Buffer.from(JSON.stringify(await offload.inventory(session))),
    /** Every chunk of the segment, with the headers the camera sends for `session`. */
    chunks: async (session: string) => {
      const out: Array<{ h: ChunkHeader; bytes: Buffer }> = [];
      for await (const c of offload.chunks(incident, 0, 0, 100)) {
        const sha256 = sha256Hex(c.bytes);
        out.push({ h: { session, incident, seq: 0, offset: c.offset, sha256 }, bytes: c.bytes });
      }
      return out;
    },
  };
}

/** An inventory of `n` offers whose manifests are not signed. */
const inventory = (n: number, session = 's1') =>
  Buffer.from(
    JSON.stringify({
      session,
      segments: Array.from({ length: n }, (_, i) => ({
        incident: `i-${i}`,
        seq: 0,
        file: '0000.mp4.age',
        bytes: 10,
        sha256: 'ab'.repeat(32),
        manifest: {},
      })),
      incidents: [],
      auditHead: -1,
    }),
  );

describe('a camera session', () => {
  it('takes up the newest inventory, at most one per interval', async () => {
    const { s, clock, lines, published, key } = await session();
    s.offer(inventory(0), key);
    await s.work;
    expect(logged(lines, 'inventory handled').map((l) => l['offers'])).toEqual([0]);

    for (const n of [1, 2, 3]) s.offer(inventory(n), key);
    await s.work;
    await clock.advance(INVENTORY_INTERVAL_MS - 1);
    expect(logged(lines, 'inventory handled')).toHaveLength(1);
    await clock.advance(1);
    await s.work;
    // Only the newest of the three, once the interval had passed, and its refusals in one message.
    expect(logged(lines, 'inventory handled').map((l) => l['offers'])).toEqual([0, 3]);
    const refusals = published.filter((p) => p.topic === downTopic('cam', 'refusals'));
    expect(refusals.map((r) => JSON.parse(r.payload.toString()).segments.length)).toEqual([3]);
  });

  it('keeps the interval across a new hello: a new session does not buy an inventory sooner', async () => {
    const { s, make, clock, lines, key } = await session();
    s.offer(inventory(0), key);
    await s.work;
    s.end();
    const again = make('s2', s);
    again.offer(inventory(2, 's2'), key);
    await again.work;
    await clock.advance(INVENTORY_INTERVAL_MS - 1);
    expect(logged(lines, 'inventory handled')).toHaveLength(1);
    await clock.advance(1);
    await again.work;
    expect(logged(lines, 'inventory handled').map((l) => l['offers'])).toEqual([0, 2]);
  });

  it('drops an audit batch nobody asked for, unread', async () => {
    const { s, clock, lines, key } = await session();
    s.audit(Buffer.from('not even JSON'), key);
    await clock.advance(0);
    expect(logged(lines, 'a camera message was refused')).toEqual([
      expect.objectContaining({ topic: 'audit', reason: 'not asked for' }),
    ]);
  });

  it('takes nothing once ended', async () => {
    const { s, clock, lines, key } = await session();
    s.end();
    s.offer(inventory(1), key);
    await clock.advance(INVENTORY_INTERVAL_MS);
    await s.work;
    expect(logged(lines, 'inventory received')).toEqual([]);
  });

  it('stores and receipts nothing more once ended, not even from chunks taken before its end', async () => {
    const { s, make, clock, lines, published, key, identity } = await session();
    const cam = await footage(identity);
    const acks = () =>
      published.filter((p) => p.topic === downTopic('cam', 'ack') && p.payload.includes('"kind":"segment"'));
    s.offer(await cam.inventory('s1'), key);
    await s.work;
    await clock.advance(0);
    expect(published.filter((p) => p.topic === downTopic('cam', 'pull'))).toHaveLength(1);
    // The whole segment came, taken while the session ran; it ends (the camera withdrawn, or a new hello) before
    // they are written.
    for (const c of await cam.chunks('s1')) s.chunk(c.h, c.bytes);
    s.end();
    await s.work;
    await clock.advance(0);
    expect(logged(lines, 'segment stored and verified')).toEqual([]);
    expect(acks()).toEqual([]);

    // The next session pulls it from its durable length, stores it and sends its one receipt.
    const again = make('s2', s);
    again.offer(await cam.inventory('s2'), key);
    await clock.advance(INVENTORY_INTERVAL_MS);
    await again.work;
    for (const c of await cam.chunks('s2')) again.chunk(c.h, c.bytes);
    await again.work;
    await clock.advance(0);
    expect(logged(lines, 'segment stored and verified')).toHaveLength(1);
    expect(acks()).toHaveLength(1);
  });
});
