/**
 * `bodycam dock init --central host:port --site NAME --central-ca F --central-cert F --central-key F`: the dock's
 * broker bridges the fleet status to a central broker (src/dock/bridge-config.ts). The three files are copied into
 * the dock's pki/ with the broker's access, since Mosquitto reads them after switching to its own user.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bridgeCn, parseCentralAddress, type SiteBridgeInput, siteProblem } from '../dock/bridge-config.ts';
import type { DockLayout } from '../dock/layout.ts';
import { ensureDir, type FileAccess, writeProtected } from '../dock/pki.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';

export interface CentralFlags {
  central?: string;
  site?: string;
  centralCa?: string;
  centralCert?: string;
  centralKey?: string;
}

/** The `central` section of dock.json from the flags: none without --central, USAGE when one of them is missing. */
export function centralFromFlags(f: CentralFlags): { address: string; site: string } | undefined {
  const given = [f.central, f.site, f.centralCa, f.centralCert, f.centralKey];
  if (given.every((v) => v === undefined)) return undefined;
  if (given.some((v) => v === undefined)) {
    throw new BodycamError(
      ErrorCode.USAGE,
      '--central, --site, --central-ca, --central-cert and --central-key go together (the bridge to the central broker)',
    );
  }
  const site = f.site ?? '';
  const problem = siteProblem(site);
  if (problem !== undefined) throw new BodycamError(ErrorCode.USAGE, `--site: ${problem}`);
  parseCentralAddress(f.central ?? '');
  return { address: f.central ?? '', site };
}

/**
 * Copies the bridge's CA, certificate and key into the dock (the certificate must name `bridge-<site>`, the user the
 * centre's ACL knows), makes the broker's persistence directory, and returns the bridge as mosquitto.conf needs it.
 */
export async function installCentral(
  l: DockLayout,
  central: { address: string; site: string },
  f: CentralFlags,
  access: { file: FileAccess; stateDir: FileAccess },
): Promise<SiteBridgeInput & { persistenceDir: string }> {
  const read = async (flag: string, file: string | undefined) =>
    readFile(file ?? '', 'utf8').catch((e: unknown) => {
      throw new BodycamError(ErrorCode.USAGE, `${flag} ${file}: cannot read it (${(e as Error).message})`);
    });
  const ca = await read('--central-ca', f.centralCa);
  const cert = await read('--central-cert', f.centralCert);
  const key = await read('--central-key', f.centralKey);
  const cn = /(?:^|,|\n)\s*CN=([^,\n]+)/.exec(new X509Certificate(cert).subject)?.[1];
  if (cn !== bridgeCn(central.site)) {
    throw new BodycamError(
      ErrorCode.USAGE,
      `--central-cert names CN ${cn ?? '(none)'}; the centre knows site ${central.site}'s bridge as CN ${bridgeCn(central.site)}`,
    );
  }
  await writeProtected(l.pki.centralCa, ca, access.file, false);
  await writeProtected(l.pki.centralCert, cert, access.file, false);
  await writeProtected(l.pki.centralKey, key, access.file, false);
  await ensureDir(l.broker.state, access.stateDir);
  const { host, port } = parseCentralAddress(central.address);
  return {
    site: central.site,
    host,
    port,
    cafile: l.pki.centralCa,
    certfile: l.pki.centralCert,
    keyfile: l.pki.centralKey,
    persistenceDir: l.broker.state,
  };
}
