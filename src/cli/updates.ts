import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dockLayout } from '../dock/layout.ts';
import { holdBundle } from '../dock/updates.ts';
import { generateDeviceKeys, loadPrivateKey } from '../evidence/keys.ts';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { handTo } from '../lib/ownership.ts';
import { type BundleKind, packBundle } from '../protocol/bundle.ts';

/** `bodycam bundle keygen`: an Ed25519 signing key (0600) and its public key (`.pub`), for releases or a site's configs. */
export async function bundleKeygenCommand(out: string): Promise<void> {
  const { privatePem, publicPem } = generateDeviceKeys();
  try {
    await writeFile(out, privatePem, { mode: 0o600, flag: 'wx' });
    await writeFile(`${out}.pub`, publicPem, { mode: 0o644, flag: 'wx' });
  } catch (e) {
    if (errnoCode(e) === 'EEXIST')
      throw new BodycamError(ErrorCode.USAGE, `${out} or ${out}.pub already exists; keygen never overwrites a key`);
    throw new BodycamError(ErrorCode.USAGE, `cannot write ${out}: ${(e as Error).message}`);
  }
  process.stderr.write(`wrote ${out} (keep it off cameras and docks) and ${out}.pub (provision it on every camera)\n`);
}

export interface PackOptions {
  kind: BundleKind;
  bundleVersion: string;
  key: string;
  from: string;
  out: string;
  allowDowngrade: boolean;
}

/** `bodycam bundle pack`: a signed bundle of a release directory, or of one camera's config file. */
export async function bundlePackCommand(o: PackOptions): Promise<void> {
  let key: ReturnType<typeof loadPrivateKey>;
  try {
    key = loadPrivateKey(await readFile(o.key, 'utf8'));
  } catch (e) {
    throw new BodycamError(ErrorCode.USAGE, `cannot read the signing key ${o.key}: ${(e as Error).message}`);
  }
  let files: Array<{ path: string; bytes: Buffer }>;
  try {
    files = o.kind === 'config' ? [{ path: 'config.json', bytes: await readFile(o.from) }] : await filesUnder(o.from);
  } catch (e) {
    throw new BodycamError(ErrorCode.USAGE, `cannot read ${o.from}: ${(e as Error).message}`);
  }
  let bundle: Buffer;
  try {
    bundle = packBundle({ kind: o.kind, version: o.bundleVersion, allowDowngrade: o.allowDowngrade }, files, key);
  } catch (e) {
    throw new BodycamError(ErrorCode.USAGE, `cannot pack: ${(e as Error).message}`);
  }
  await writeFile(o.out, bundle, { mode: 0o644 });
  process.stdout.write(`${o.out}: ${o.kind} ${o.bundleVersion}, ${files.length} file(s), ${bundle.length} bytes\n`);
}

async function filesUnder(dir: string, rel = ''): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const e of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, p)));
    else if (e.isFile()) out.push({ path: p, bytes: await readFile(path.join(dir, p)) });
  }
  return out;
}

/**
 * `bodycam dock update`: hold a signed bundle at the dock for some cameras (every one, for a release, by default), or
 * for a named group of them (`--group`: with `--device`, those cameras become the group; without, the group as it was).
 */
export async function dockUpdateCommand(o: {
  dir: string;
  bundle: string;
  device: string[];
  group?: string;
}): Promise<void> {
  const layout = dockLayout(o.dir);
  if (!existsSync(layout.config))
    throw new BodycamError(ErrorCode.USAGE, `${o.dir} is not a dock directory (no dock.json)`);
  if (!(await stat(o.bundle).catch(() => null))?.isFile())
    throw new BodycamError(ErrorCode.USAGE, `${o.bundle} is not a file`);
  const target = { devices: o.device, ...(o.group === undefined ? {} : { group: o.group }) };
  const { manifest, devices, file } = await holdBundle(layout, await readFile(o.bundle), target);
  // Run as root (sudo, as for the other dock commands): what it wrote goes to the dock directory's owner, the service
  // user whose agent reads the bundles and writes its reports beside them.
  const owner = await stat(o.dir);
  if (process.getuid?.() === 0 && owner.uid !== 0) {
    const to = { uid: owner.uid, gid: owner.gid };
    await handTo(layout.releases.dir, to, 0o755, 'dir');
    await handTo(file, to, 0o644, 'file');
    await handTo(layout.releases.wanted, to, 0o644, 'file');
  }
  const who =
    o.group !== undefined
      ? `group ${o.group} (${devices.join(', ')})`
      : devices.length === 0
        ? 'every camera of this dock'
        : devices.join(', ');
  process.stdout.write(
    `${manifest.kind} ${manifest.version} held for ${who}; offered at their next docking (the camera checks the signature)\n`,
  );
}
