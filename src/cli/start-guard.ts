/**
 * The start guard's program (src/camera/update/guard.ts), run by the Debian package's launcher (bin/bodycam-start) from
 * the package's own directory before every start of the camera: `node start-guard.js CONFIG PACKAGE_DIR` prints the
 * release directory to start. It never stops a start: a config without `update`, or anything it cannot read, prints
 * the package's directory (and says why on stderr, into the journal).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { guardStart } from '../camera/update/guard.ts';
import { DEFAULT_UPDATE_ROOT } from '../evidence/paths.ts';

async function main(): Promise<void> {
  const [configFile, packageDir] = process.argv.slice(2);
  if (configFile === undefined || packageDir === undefined) {
    process.stderr.write('usage: start-guard.js CONFIG PACKAGE_DIR\n');
    process.exitCode = 2;
    return;
  }
  let root: string | null = null;
  try {
    const doc = JSON.parse(readFileSync(configFile, 'utf8')) as { update?: { root?: unknown } };
    if (doc.update !== undefined) {
      const r = typeof doc.update.root === 'string' ? doc.update.root : DEFAULT_UPDATE_ROOT;
      root = path.resolve(path.dirname(path.resolve(configFile)), r);
    }
  } catch (e) {
    process.stderr.write(`start guard: cannot read ${configFile} (${(e as Error).message}): starting ${packageDir}\n`);
  }
  if (root === null) {
    process.stdout.write(`${packageDir}\n`);
    return;
  }
  try {
    const o = await guardStart(root, packageDir);
    if (o.rolledBack !== undefined)
      process.stderr.write(`start guard: the release on trial ${o.rolledBack}: put back\n`);
    process.stdout.write(`${o.dir}\n`);
  } catch (e) {
    process.stderr.write(`start guard: ${(e as Error).message}: starting ${packageDir}\n`);
    process.stdout.write(`${packageDir}\n`);
  }
}

await main();
