/**
 * Dock sync in one process on the fake clock: the dock agent and any number of cameras' sync components, each the
 * production code with real SQLite, real files and real signatures, talking through the in-memory broker with the
 * protocol's ACL (src/protocol/transport/memory-broker.ts). The cameras hold footage written as a camera writes it
 * (sealed, indexed, signed, its index events in the signed audit log). Nothing waits on the wall clock: `run` moves
 * fake time on while the real I/O completes.
 *
 * ```ts
 * const scene = await syncScene();
 * const cam = await scene.camera('cam-a', { segments: 3, bytesEach: 300_000 });
 * cam.dock(true);
 * await scene.run(() => cam.offloaded() === 3, 'everything offloaded');
 * ```
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateIdentity, parseRecipient } from '../../src/age/keys.ts';
import { AuditTrail } from '../../src/camera/audit/trail.ts';
import { type CameraEvents, createCameraBus } from '../../src/camera/events.ts';
import { type DeviceIdentity, publishDeviceKey } from '../../src/camera/identity.ts';
import type { SegmentRow } from '../../src/camera/storage/segments.ts';
import { CameraStore } from '../../src/camera/storage/store.ts';
import { DockSync } from '../../src/camera/sync/dock-sync.ts';
import { Offload } from '../../src/camera/sync/offload.ts';
import type { EnrolledKey } from '../../src/dock/enrolled.ts';
import { limitsSchema } from '../../src/dock/limits.ts';
import { DockAgent } from '../../src/dock/sync/agent.ts';
import { FilesystemEvidenceStore } from '../../src/dock/sync/evidence-store.ts';
import { Progress } from '../../src/dock/sync/progress.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../src/evidence/keys.ts';
import { FakeClock } from '../../src/hal/clock/fake.ts';
import { DOCK_AGENT_CN } from '../../src/protocol/acl.ts';
import type { Hello } from '../../src/protocol/messages.ts';
import { MemoryTransport } from '../../src/protocol/transport/memory.ts';
import { MemoryBroker } from '../../src/protocol/transport/memory-broker.ts';
import { captureLogger, type LogLine } from './dock.ts';
import { runUntil } from './memory-sync.ts';
import { type StoredIncident, storeIncidentIn } from './stored-footage.ts';

export interface SceneDock {
  dir: string;
  evidenceDir: string;
  progress: Progress;
  agent: DockAgent;
  transport: MemoryTransport;
  /** The dock's public signing key (what a camera is enrolled with). */
  publicKey: KeyObject;
  enrolled: Map<string, EnrolledKey>;
  lines: LogLine[];
  /** Chunks that reached the dock, per camera. */
  chunks: Map<string, number>;
  /** Every checked hello the agent took, in order (what feeds the fleet status). */
  hellos: Array<{ device: string; hello: Hello }>;
}

export interface SceneCamera {
  device: string;
  storageDir: string;
  identity: DeviceIdentity;
  store: CameraStore;
  audit: AuditTrail;
  sync: DockSync;
  transport: MemoryTransport;
  incidents: StoredIncident[];
  lines: LogLine[];
  /** What the sync component told the bus, in order. */
  events: Array<{ event: keyof CameraEvents; payload: unknown }>;
  /** The camera's event bus (health events the hello reports). */
  bus: ReturnType<typeof createCameraBus>;
  dock(docked: boolean): void;
  segments(): SegmentRow[];
  offloaded(): number;
  /** Garbage collections the sync component asked for (src/lib/memory.ts `collectGarbage`; counted, not run). */
  collections(): number;
}

export interface SceneOptions {
  /** How often the dock makes incoming footage durable (default 16 MiB, CHECKPOINT_BYTES). */
  checkpointBytes?: number;
  /** The dock agent starts later, with `startDock()` (default: at once). */
  dockLater?: boolean;
  /** The broker keeps retained messages (default false, as the dock's Mosquitto). */
  retainAvailable?: boolean;
}

export interface Scene {
  clock: FakeClock;
  broker: MemoryBroker;
  dock: SceneDock;
  startDock(): Promise<void>;
  camera(device: string, footage: { segments: number; bytesEach: number; incidents?: number }): Promise<SceneCamera>;
  run(done: () => boolean, what: string, limitMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function syncScene(o: SceneOptions = {}): Promise<Scene> {
  // The wall clock starts at the real one, so file times and the fake clock agree (partial transfers' expiry).
  const clock = new FakeClock({ wallNow: Date.now() });
  const broker = new MemoryBroker({ clock, retainAvailable: o.retainAvailable === true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-sync-dock-'));
  const keys = generateDeviceKeys();
  const privateKey = loadPrivateKey(keys.privatePem);
  const publicKey = createPublicKey(privateKey);
  const parsed = limitsSchema.safeParse({});
  if (!parsed.ok) throw new Error('dock limits');
  const progress = Progress.open(dir, { wallNow: () => clock.wallNow() });
  const enrolled = new Map<string, EnrolledKey>();
  const { logger, lines } = captureLogger();
  const transport = new MemoryTransport({ broker, user: DOCK_AGENT_CN, clock });
  const evidenceDir = path.join(dir, 'evidence');
  const hellos: SceneDock['hellos'] = [];
  const agent = new DockAgent({
    transport,
    progress,
    store: new FilesystemEvidenceStore(evidenceDir),
    incomingDir: path.join(dir, 'incoming'),
    deviceKey: (device) => enrolled.get(device) ?? null,
    dock: { privateKey, keyId: keyId(publicKey) },
    logger,
    limits: parsed.value,
    clock,
    freeBytes: async () => 1e12,
    ...(o.checkpointBytes === undefined ? {} : { checkpointBytes: o.checkpointBytes }),
    onHello: (device, hello) => hellos.push({ device, hello }),
  });
  const chunks = new Map<string, number>();
  broker.tap = (d) => {
    if (d.to === DOCK_AGENT_CN && d.topic.endsWith('/chunk')) chunks.set(d.from, (chunks.get(d.from) ?? 0) + 1);
  };
  const dock: SceneDock = { dir, evidenceDir, progress, agent, transport, publicKey, enrolled, lines, chunks, hellos };
  const cameras: SceneCamera[] = [];
  let dockStarted = false;
  const startDock = async () => {
    await transport.open();
    await agent.start();
    dockStarted = true;
  };
  if (o.dockLater !== true) await startDock();

  const camera: Scene['camera'] = async (device, footage) => {
    const storageDir = mkdtempSync(path.join(os.tmpdir(), `bodycam-sync-${device}-`));
    const identity = deviceIdentity();
    await publishDeviceKey(storageDir, identity);
    const { logger: camLogger, lines: camLines } = captureLogger();
    const audit = await AuditTrail.open(storageDir, identity, camLogger);
    const store = CameraStore.open(storageDir, { wallNow: () => clock.wallNow(), onEvent: (e) => audit.append(e) });
    const recipients = [parseRecipient(generateIdentity().recipient)];
    const target = { store, storageDir, device, recipients, identity, wallNow: () => clock.wallNow() };
    const incidents: StoredIncident[] = [];
    for (let i = 0; i < (footage.incidents ?? 1); i++) incidents.push(await storeIncidentIn(target, footage));
    await audit.flush();
    enrolled.set(device, { key: identity.publicKey, pem: identity.publicPem, keyId: identity.keyId });
    const bus = createCameraBus();
    const events: SceneCamera['events'] = [];
    for (const event of ['offload.done', 'offload.refused', 'clock.offset'] as const) {
      bus.on(event, (payload) => events.push({ event, payload }));
    }
    const camTransport = new MemoryTransport({ broker, user: device, clock });
    let collections = 0;
    const sync = new DockSync({
      bus,
      device,
      keyId: identity.keyId,
      release: '0.0.0-test',
      transport: camTransport,
      offload: new Offload({ store, storageDir, device, dockKey: publicKey }),
      auditHead: () => audit.head,
      clock,
      logger: camLogger,
      collectGarbage: () => {
        collections += 1;
      },
    });
    await sync.start();
    const cam: SceneCamera = {
      device,
      storageDir,
      identity,
      store,
      audit,
      sync,
      transport: camTransport,
      incidents,
      lines: camLines,
      events,
      bus,
      dock: (docked) => bus.emit('dock.changed', { docked }),
      segments: () => incidents.flatMap((i) => store.segments.ofIncident(i.incident)),
      offloaded: () => cam.segments().filter((s) => s.offloadedAt !== null).length,
      collections: () => collections,
    };
    cameras.push(cam);
    return cam;
  };

  return {
    clock,
    broker,
    dock,
    startDock,
    camera,
    run: (done, what, limitMs = 120_000) => runUntil(clock, done, what, { limitMs }),
    stop: async () => {
      for (const c of cameras) {
        await c.sync.stop();
        c.store.close();
        await c.audit.close();
      }
      if (dockStarted) await agent.stop();
      await transport.close();
      progress.close();
    },
  };
}

/** A device identity made in memory, as provisioning would make one. */
function deviceIdentity(): DeviceIdentity {
  const { privatePem, publicPem } = generateDeviceKeys();
  const publicKey = loadPublicKey(publicPem);
  return { privateKey: loadPrivateKey(privatePem), publicKey, keyId: keyId(publicKey), publicPem };
}
