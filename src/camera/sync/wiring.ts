import { readFile, writeFile } from 'node:fs/promises';
import type { Config } from '../../config/schema.ts';
import { loadPublicKey } from '../../evidence/keys.ts';
import { dockKeyFile } from '../../evidence/paths.ts';
import type { Clock } from '../../hal/clock/port.ts';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { RELEASE } from '../../lib/version.ts';
import type { CameraBus } from '../events.ts';
import type { DeviceIdentity } from '../identity.ts';
import type { CameraStore } from '../storage/store.ts';
import { DockSync } from './dock-sync.ts';
import { Offload } from './offload.ts';

/**
 * Builds the dock sync of an enrolled camera: the dock's public key (which alone can sign a receipt that deletes
 * footage) is loaded and copied into the storage directory, where verifiers check receipts against it.
 */
export async function dockSync(
  dock: NonNullable<Config['dock']>,
  d: {
    bus: CameraBus;
    store: CameraStore;
    storageDir: string;
    device: string;
    identity: DeviceIdentity;
    clock: Clock;
    logger: Logger;
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
    connection: { host: dock.host, port: dock.port, ca: dock.ca, cert: dock.cert, key: dock.key },
    offload: new Offload({ store: d.store, storageDir: d.storageDir, device: d.device, dockKey }),
    clock: d.clock,
    logger: d.logger,
  });
}
