/**
 * What root gives the camera's service user after provisioning or upgrading a camera: its identity directory and
 * signing key (0700/0600, its own: nobody else reads the key), its storage directory (0700) and everything in it
 * (owner only: the evidence's contents and modes are never touched), its dock client
 * key, and read access to the config and the prompts. Everything is changed through `handTo`, never through a link.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { promptFile } from '../camera/feedback/prompts.ts';
import { publicKeyFileFor } from '../camera/identity.ts';
import type { Config } from '../config/schema.ts';
import { privateDirectory } from '../lib/fs.ts';
import { handTo, handTreeTo } from '../lib/ownership.ts';
import { type Account, accessProblem, R, X } from './service-user.ts';

/** Gives `account` what it must own and read; returns one line per change, for the technician. */
export async function handOver(config: Config, configFile: string, account: Account): Promise<string[]> {
  const done: string[] = [];
  const own = { uid: account.uid, gid: account.gid };
  const identityDir = path.dirname(config.evidence.keyFile);
  await privateDirectory(identityDir, 0o700, [account.uid]);
  await handTo(identityDir, own, 0o700, 'dir');
  done.push(`${identityDir}: ${account.name}'s, mode 700`);
  if (await handTo(config.evidence.keyFile, own, 0o600, 'file')) {
    done.push(`${config.evidence.keyFile}: ${account.name}'s, mode 600 (only it reads the signing key)`);
  }
  await handTo(publicKeyFileFor(config.evidence.keyFile), own, 0o644, 'file');
  await privateDirectory(config.storage.dir, 0o700, [account.uid]);
  await handTo(config.storage.dir, own, 0o700, 'dir');
  // Everything inside too: systemd's StateDirectory= changes owners below /var/lib/bodycam only when the top is not
  // already the user's, so storage that root filled (an earlier release, a restore) would stay root's and the camera
  // could not open its index. Contents and modes are not touched.
  const tree = await handTreeTo(config.storage.dir, own);
  done.push(
    `${config.storage.dir}: ${account.name}'s, mode 700, with the ${tree.given} entries inside (contents and modes unchanged)`,
  );
  for (const left of tree.skipped) done.push(`left as it is: ${left}`);
  if (config.dock !== undefined) {
    const dockDir = path.dirname(config.dock.key);
    if (dockDir !== path.dirname(configFile)) await handTo(dockDir, own, 0o700, 'dir');
    if (await handTo(config.dock.key, own, 0o600, 'file')) done.push(`${config.dock.key}: ${account.name}'s, mode 600`);
  }
  // The prompts are public (the warning's text): readable by everyone, whoever made them.
  if ((await accessProblem(account, config.warning.promptsDir, X)) !== null) {
    const info = await stat(config.warning.promptsDir).catch(() => null);
    if (info !== null) await handTo(config.warning.promptsDir, { uid: info.uid, gid: info.gid }, 0o755, 'dir');
  }
  for (const language of config.warning.languages) {
    const file = promptFile(config.warning.promptsDir, language);
    const info = await stat(file).catch(() => null);
    if (info !== null && (await accessProblem(account, file, R)) !== null) {
      await handTo(file, { uid: info.uid, gid: info.gid }, 0o644, 'file');
      done.push(`${file}: mode 644`);
    }
  }
  // The config and its directory: readable by the service user's group when they are not already.
  const configDir = path.dirname(configFile);
  if ((await accessProblem(account, configDir, X)) !== null) {
    const info = await stat(configDir);
    await handTo(configDir, { uid: info.uid, gid: account.gid }, 0o750, 'dir');
    done.push(`${configDir}: group ${account.name}, mode 750`);
  }
  if ((await accessProblem(account, configFile, R)) !== null) {
    const info = await stat(configFile);
    await handTo(configFile, { uid: info.uid, gid: account.gid }, 0o640, 'file');
    done.push(`${configFile}: group ${account.name}, mode 640`);
  }
  return done;
}
