import { readFileSync } from 'node:fs';
import { isDamagedAgeFile, parseIdentities } from '../age/opener.ts';
import { loadConfig } from '../config/load.ts';
import { exportIncident } from '../evidence/export.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import { BodycamError, ErrorCode, isBodycamError } from '../lib/errors.ts';
import type { StoreFlags } from './dock-store.ts';
import { custodyKeyOf, givenKeys, onlyForBuckets } from './verify.ts';

export interface ExportCliOptions extends StoreFlags {
  identity: string;
  incident: string;
  out: string;
  from?: string;
  config?: string;
  device?: string;
  key: string[];
  dockKey: string[];
  force: boolean;
  custodyKey?: string;
}

/** `bodycam export`: verify, decrypt and join one incident into FILE.mp4, with FILE.json beside it. */
export async function exportCommand(o: ExportCliOptions): Promise<void> {
  const from = o.from ?? (o.config === undefined ? undefined : loadConfig(o.config).storage.dir);
  if (from === undefined)
    throw new BodycamError(ErrorCode.USAGE, 'say where the evidence is: --from PATH (or --config FILE)');
  if (!o.out.endsWith('.mp4')) throw new BodycamError(ErrorCode.USAGE, `--out must name an .mp4 file (got ${o.out})`);
  if (!from.startsWith('s3://')) onlyForBuckets(o);
  let identities: ReturnType<typeof parseIdentities>;
  try {
    identities = parseIdentities(readFileSync(o.identity, 'utf8'));
  } catch (e) {
    const why = isBodycamError(e) ? e.message : `cannot read it (${(e as Error).message})`;
    throw new BodycamError(ErrorCode.USAGE, `--identity ${o.identity}: ${why}`);
  }
  const keys = givenKeys(o.key, o.dockKey);
  const bucket = from.startsWith('s3://')
    ? await (await import('./verify-bucket.ts')).openBucketView(
        { ...o, store: from },
        o.incident,
        o.device,
        custodyKeyOf(o),
      )
    : null;
  try {
    if (bucket !== null) {
      const wrong = bucket.findings.filter((f) => f.severity === 'error');
      if (wrong.length > 0 && !o.force) {
        const lines = wrong.map((f) => `  ${f.code}: ${f.message}`).join('\n');
        throw new BodycamError(
          ErrorCode.EVIDENCE_FORMAT,
          `the bucket shows what must not be (give --force to export anyway; the report says so):\n${lines}`,
        );
      }
    }
    const report = await exportIncident({
      from: bucket?.evidence ?? from,
      incident: o.incident,
      out: o.out,
      identities,
      processes: new NodeProcessRunner(),
      keys,
      force: o.force,
      ...(o.device === undefined ? {} : { device: o.device }),
    });
    if (bucket !== null) await bucket.note(o.out.replace(/\.mp4$/, '.json'));
    const power = report.segments.filter((s) => s.endedAtPowerLoss).map((s) => s.file);
    process.stdout.write(
      `${report.output.file} (${report.segments.length} segment(s) of ${report.device}, ${report.verification.ok ? 'verified' : 'NOT VERIFIED'}` +
        `${power.length > 0 ? `; cut short, kept up to their last sync: ${power.join(', ')}` : ''}); report ${o.out.replace(/\.mp4$/, '')}.json\n`,
    );
  } catch (e) {
    if (isBodycamError(e, 'EVIDENCE_UNREADABLE') || isBodycamError(e, 'EVIDENCE_KEY')) {
      throw new BodycamError(ErrorCode.USAGE, e.message);
    }
    if (isDamagedAgeFile(e))
      throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `a segment is damaged: ${(e as Error).message}`);
    throw e;
  } finally {
    await bucket?.remove();
  }
}
