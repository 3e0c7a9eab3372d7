import { readFileSync } from 'node:fs';
import { isDamagedAgeFile, parseIdentities } from '../age/opener.ts';
import { loadConfig } from '../config/load.ts';
import { exportIncident } from '../evidence/export.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import { BodycamError, ErrorCode, isBodycamError } from '../lib/errors.ts';
import { givenKeys } from './verify.ts';

export interface ExportCliOptions {
  identity: string;
  incident: string;
  out: string;
  from?: string;
  config?: string;
  device?: string;
  key: string[];
  dockKey: string[];
  force: boolean;
}

/** `bodycam export`: verify, decrypt and join one incident into FILE.mp4, with FILE.json beside it. */
export async function exportCommand(o: ExportCliOptions): Promise<void> {
  const from = o.from ?? (o.config === undefined ? undefined : loadConfig(o.config).storage.dir);
  if (from === undefined)
    throw new BodycamError(ErrorCode.USAGE, 'say where the evidence is: --from PATH (or --config FILE)');
  if (!o.out.endsWith('.mp4')) throw new BodycamError(ErrorCode.USAGE, `--out must name an .mp4 file (got ${o.out})`);
  let identities: ReturnType<typeof parseIdentities>;
  try {
    identities = parseIdentities(readFileSync(o.identity, 'utf8'));
  } catch (e) {
    const why = isBodycamError(e) ? e.message : `cannot read it (${(e as Error).message})`;
    throw new BodycamError(ErrorCode.USAGE, `--identity ${o.identity}: ${why}`);
  }
  try {
    const report = await exportIncident({
      from,
      incident: o.incident,
      out: o.out,
      identities,
      processes: new NodeProcessRunner(),
      keys: givenKeys(o.key, o.dockKey),
      force: o.force,
      ...(o.device === undefined ? {} : { device: o.device }),
    });
    const power = report.segments.filter((s) => s.endedAtPowerLoss).map((s) => s.file);
    process.stdout.write(
      `${report.output.file} (${report.segments.length} segment(s) of ${report.device}, ${report.verification.ok ? 'verified' : 'NOT VERIFIED'}` +
        `${power.length > 0 ? `; ended at a power loss: ${power.join(', ')}` : ''}); report ${o.out.replace(/\.mp4$/, '')}.json\n`,
    );
  } catch (e) {
    if (isBodycamError(e, 'EVIDENCE_UNREADABLE') || isBodycamError(e, 'EVIDENCE_KEY')) {
      throw new BodycamError(ErrorCode.USAGE, e.message);
    }
    if (isDamagedAgeFile(e))
      throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `a segment is damaged: ${(e as Error).message}`);
    throw e;
  }
}
