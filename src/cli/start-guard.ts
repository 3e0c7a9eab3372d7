/**
 * The start guard's program (src/camera/update/guard.ts), run by the Debian package's launcher (bin/bodycam-start) from
 * the package's own directory before every start of the camera: `node start-guard.js CONFIG PACKAGE_DIR` prints the
 * release directory to start. It never stops a start: a config without `update`, or anything it cannot read (the
 * release key among them: a release it cannot check is not started), prints the package's directory (and says why on
 * stderr, into the journal). It reads the config leniently, not with the package's loader, since the release it
 * starts may be newer than the package and accept a config the package's schema would refuse; relative paths resolve
 * against the config's directory as the loader resolves them (src/config/load.ts).
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { guardStart } from '../camera/update/guard.ts';
import { loadPublicKey } from '../evidence/keys.ts';
import { DEFAULT_UPDATE_ROOT } from '../evidence/paths.ts';

async function main(): Promise<void> {
  const [configFile, packageDir] = process.argv.slice(2);
  if (configFile === undefined || packageDir === undefined) {
    process.stderr.write('usage: start-guard.js CONFIG PACKAGE_DIR\n');
    process.exitCode = 2;
    return;
  }
  let update: { root: string; releaseKey: KeyObject } | null = null;
  try {
    const doc = JSON.parse(readFileSync(configFile, 'utf8')) as { update?: { root?: unknown; releaseKey?: unknown } };
    if (doc.update !== undefined) {
      const at = (p: string) => path.resolve(path.dirname(path.resolve(configFile)), p);
      const key = doc.update.releaseKey;
      if (typeof key !== 'string') throw new Error('update.releaseKey is not a path');
      update = {
        root: at(typeof doc.update.root === 'string' ? doc.update.root : DEFAULT_UPDATE_ROOT),
        releaseKey: loadPublicKey(readFileSync(at(key), 'utf8')),
      };
    }
  } catch (e) {
    process.stderr.write(`start guard: cannot read ${configFile} (${(e as Error).message}): starting ${packageDir}\n`);
  }
  if (update === null) {
    process.stdout.write(`${packageDir}\n`);
    return;
  }
  try {
    const o = await guardStart(update.root, packageDir, update.releaseKey);
    if (o.rolledBack !== undefined)
      process.stderr.write(`start guard: the release on trial ${o.rolledBack}: put back\n`);
    if (o.refused !== undefined)
      process.stderr.write(`start guard: the release \`current\` led to is not started: ${o.refused}\n`);
    process.stdout.write(`${o.dir}\n`);
  } catch (e) {
    process.stderr.write(`start guard: ${(e as Error).message}: starting ${packageDir}\n`);
    process.stdout.write(`${packageDir}\n`);
  }
}

await main();
