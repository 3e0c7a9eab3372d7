import { readFile } from 'node:fs/promises';
import type { Config } from '../../config/schema.ts';
import { loadPublicKey } from '../../evidence/keys.ts';
import type { Clock } from '../../hal/clock/port.ts';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { RELEASE } from '../../lib/version.ts';
import type { UpdatePull } from '../../protocol/messages.ts';
import type { CameraBus } from '../events.ts';
import type { CameraStatus } from '../status.ts';
import { Updater } from './updater.ts';

/** Builds the updater from the config's `update` section: the provisioned keys are read here, once. */
export async function makeUpdater(
  c: Config,
  d: {
    bus: CameraBus;
    configFile: string;
    recording: () => boolean;
    status: () => CameraStatus;
    pull: (body: UpdatePull) => void;
    reported: () => void;
    restart: (reason: string) => void;
    clock: Clock;
    logger: Logger;
  },
): Promise<Updater | null> {
  const u = c.update;
  if (u === undefined) return null;
  const key = async (file: string, name: string) => {
    try {
      return loadPublicKey(await readFile(file, 'utf8'));
    } catch (e) {
      throw new BodycamError(
        ErrorCode.CONFIG_INVALID,
        `the ${name} ${file} cannot be read as an Ed25519 public key (${(e as Error).message})`,
        { key: name === 'release key' ? 'update.releaseKey' : 'update.configKey' },
      );
    }
  };
  return new Updater({
    ...d,
    root: u.root,
    config: c,
    releaseKey: await key(u.releaseKey, 'release key'),
    configKey: u.configKey === undefined ? null : await key(u.configKey, 'config key'),
    release: RELEASE,
    healthMs: u.healthSeconds * 1000,
  });
}
