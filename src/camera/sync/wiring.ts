import { readFile, writeFile } from 'node:fs/promises';
import type { Config } from '../../config/schema.ts';
import { loadPublicKey } from '../../evidence/keys.ts';
import { dockKeyFile } from '../../evidence/paths.ts';
import type { Clock } from '../../hal/clock/port.ts';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { collectGarbage } from '../../lib/memory.ts';
import { RELEASE } from '../../lib/version.ts';
import { MqttTransport } from '../../protocol/transport/mqtt.ts';
import type { SyncTransport } from '../../protocol/transport/port.ts';
import type { CameraBus } from '../events.ts';
import type { DeviceIdentity } from '../identity.ts';
import type { CameraStore } from '../storage/store.ts';
import type { Updater } from '../update/updater.ts';
import { DockSync } from './dock-sync.ts';
import { Offload } from './offload.ts';

/**
 * Builds the dock sync of an enrolled camera: the dock's public key (which alone can sign a receipt that deletes
 * footage) is loaded and copied into the storage directory, where verifiers check receipts against it; the
 * transport is MQTT to the dock's broker with the camera's certificate (the mqtt package is loaded only when docked),
 * unless one is handed in.
 */
export async function dockSync(
  dock: NonNullable<Config['dock']>,
  d: {
    bus: CameraBus;
    store: CameraStore;
    storageDir: string;
    device: string;
    identity: DeviceIdentity;
    /** The audit log's head (seq of its last entry, −1 when none). */
    auditHead: () => number;
    clock: Clock;
    logger: Logger;
    transport?: SyncTransport;
    updates?: Updater;
  },
): Promise<DockSync> {
  let pem: string;
  try {
    pem = await readFile(dock.dockKey, 'utf8');
  } catch (e) {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `the dock key ${dock.dockKey} cannot be read (${(e as Error).message}); enroll the camera again with \`bodycam dock enroll\``,
      {
        key: 'dock.dockKey',
      },
    );
  }
  const dockKey = loadPublicKey(pem);
  await writeFile(dockKeyFile(d.storageDir), pem, { mode: 0o644 });
  return new DockSync({
    bus: d.bus,
    device: d.device,
    keyId: d.identity.keyId,
    release: RELEASE,
    transport: d.transport ?? cameraTransport(dock, d.device),
    offload: new Offload({ store: d.store, storageDir: d.storageDir, device: d.device, dockKey }),
    auditHead: d.auditHead,
    clock: d.clock,
    logger: d.logger,
    ...(d.updates === undefined ? {} : { updates: d.updates }),
    collectGarbage,
  });
}

/** MQTT to the dock's broker, as the camera's enrolment (`dock` section of its config) says. */
export function cameraTransport(dock: NonNullable<Config['dock']>, device: string): MqttTransport {
  return new MqttTransport({
    host: dock.host,
    port: dock.port,
    // The broker names every client by its certificate (use_username_as_clientid): the device id.
    clientId: device,
    tls: { ca: dock.ca, cert: dock.cert, key: dock.key },
    reconnectMs: 1000,
    connectTimeoutMs: 5000,
  });
}
