/**
 * Footage written straight into a camera's storage as the camera records it: one closed incident of age-sealed
 * segments (random bytes for speed: the dock never decrypts), indexed in the camera's SQLite and signed by the
 * camera's own manifest writer with its own key. A big offload is ready in a second, where recording as much
 * through ffmpeg would take minutes. The camera daemon must not be running while this writes its storage.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseRecipient } from '../../src/age/keys.ts';
import { ManifestWriter } from '../../src/camera/audit/manifests.ts';
import { createCameraBus } from '../../src/camera/events.ts';
import { type DeviceIdentity, loadDeviceIdentity } from '../../src/camera/identity.ts';
import { SegmentWriter } from '../../src/camera/recording/segments/writer.ts';
import { CameraStore } from '../../src/camera/storage/store.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/lib/logger.ts';

export interface StoredIncident {
  incident: string;
  /** Sealed bytes of every segment, in order. */
  segmentBytes: number[];
}

let serial = 0;

/** Adds one closed incident of `segments` sealed segments of `bytesEach` plaintext bytes to the camera's storage. */
export async function storeIncident(
  configFile: string,
  o: { segments: number; bytesEach: number },
): Promise<StoredIncident> {
  const config = loadConfig(configFile);
  mkdirSync(config.storage.dir, { recursive: true });
  const store = CameraStore.open(config.storage.dir);
  try {
    return await storeIncidentIn(
      {
        store,
        storageDir: config.storage.dir,
        device: config.device.id,
        recipients: config.encryption.recipients.map(parseRecipient),
        identity: await loadDeviceIdentity(config.evidence.keyFile),
        wallNow: Date.now,
      },
      o,
    );
  } finally {
    store.close();
  }
}

/** Where `storeIncidentIn` writes: a camera's open index and storage, its recipients and its signing identity. */
export interface FootageTarget {
  store: CameraStore;
  storageDir: string;
  device: string;
  recipients: Buffer[];
  identity: DeviceIdentity;
  wallNow: () => number;
}

/** As `storeIncident`, into an index the caller holds open (and whose events it may take into an audit log). */
export async function storeIncidentIn(
  t: FootageTarget,
  o: { segments: number; bytesEach: number },
): Promise<StoredIncident> {
  const { store, storageDir } = t;
  const incident = `${t.device}-20260101T0000${String(serial++).padStart(2, '0')}Z-0000`;
  store.incidents.open(
    {
      id: incident,
      trigger: 'test',
      activatedAt: new Date(t.wallNow()).toISOString(),
      activationMediaMs: 30_000,
      prerollRequestedMs: 30_000,
      prerollActualMs: 30_000,
      firstMediaMs: 0,
      warning: { state: 'suppressed', reason: 'disabled' },
    },
    {},
  );
  const segmentBytes: number[] = [];
  for (let seq = 0; seq < o.segments; seq++) {
    const relative = `footage/${incident}/${String(seq).padStart(4, '0')}.mp4.age`;
    const file = path.join(storageDir, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    const id = store.segments.insert(incident, seq, relative, seq * 10_000);
    const w = await SegmentWriter.create({ path: file, recipients: t.recipients });
    await w.write(randomBytes(o.bytesEach));
    const sealed = await w.close();
    store.segments.finish(
      id,
      'closed',
      { endMediaMs: (seq + 1) * 10_000, frames: 300, fragments: 10, bytes: sealed.bytes },
      sealed.sha256,
    );
    segmentBytes.push(sealed.bytes);
  }
  store.incidents.close(incident, 'closed', o.segments * 10_000, 'test');
  const writer = new ManifestWriter({
    bus: createCameraBus(),
    incidents: store.incidents,
    segments: store.segments,
    manifests: store.manifests,
    storageDir,
    device: t.device,
    identity: t.identity,
    retention: { policeAccessDays: 30, maxMonths: 12 },
    speed: 1,
    wallNow: t.wallNow,
    logger: silentLogger(),
  });
  await writer.start();
  await writer.stop();
  return { incident, segmentBytes };
}
