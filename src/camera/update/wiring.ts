import { readFile } from 'node:fs/promises';
import type { Config } from '../../config/schema.ts';
import { loadPublicKey } from '../../evidence/keys.ts';
import type { Clock } from '../../hal/clock/port.ts';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { RELEASE } from '../../lib/version.ts';
import type { UpdatePull } from '../../protocol/messages.ts';
import type { CameraBus } from '../events.ts';
import type { HealthView } from './health.ts';
import { Updater } from './updater.ts';

/** The sync link's side the updater talks through (DockSync), known only once the link is built. */
interface UpdateLink {
  pullUpdate(body: UpdatePull): void;
  helloAgain(): void;
}

/**
 * The camera's updater and its late binding to the dock link: null without an `update` section, without a dock, or
 * without a signing key (updates come only through the dock, to an enrolled camera).
 */
export async function cameraUpdates(
  c: Config,
  identity: unknown,
  d: {
    bus: CameraBus;
    clock: Clock;
    recorder: { readonly state: string };
    status: { snapshot(): HealthView };
    log: Logger;
    restart: (reason: string) => void;
    configFile: string;
  },
): Promise<{ updater: Updater | null; attach(link: UpdateLink | null): void }> {
  let link: UpdateLink | null = null;
  const updater =
    c.dock === undefined || identity === null
      ? null
      : await makeUpdater(c, {
          bus: d.bus,
          configFile: d.configFile,
          recording: () => d.recorder.state !== 'buffering',
          status: () => d.status.snapshot(),
          pull: (b) => link?.pullUpdate(b),
          reported: () => link?.helloAgain(),
          restart: d.restart,
          clock: d.clock,
          logger: d.log.child({ component: 'update' }),
        });
  return {
    updater,
    attach: (l) => {
      link = l;
    },
  };
}

/** Builds the updater from the config's `update` section: the provisioned keys are read here, once. */
export async function makeUpdater(
  c: Config,
  d: {
    bus: CameraBus;
    configFile: string;
    recording: () => boolean;
    status: () => HealthView;
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
