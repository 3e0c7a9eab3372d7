/**
 * One device's evidence, as the walk found it: manifests classified against the device's trust anchor, the chain,
 * every incident (segments hashed as streams), the audit log, the docking records and what they prove complete.
 */
import type { Anchor } from './anchors.ts';
import { verifySignature } from './envelope.ts';
import { keyId, loadPublicKey } from './keys.ts';
import { AUDIT_LOG, DEVICE_KEY_FILE, DOCK_KEY_FILE, FOOTAGE_DIR } from './paths.ts';
import type { DeviceFindings, DeviceResult } from './report.ts';
import type { FileRead } from './tree-fs.ts';
import { checkAudit } from './verify-audit.ts';
import { checkChain } from './verify-chain.ts';
import { checkCompleteness } from './verify-completeness.ts';
import { checkDockings } from './verify-dockings.ts';
import { checkIncident } from './verify-incident.ts';
import type { DeviceWalk } from './walk.ts';
import { type ManifestRecord, relJoin } from './walk-incident.ts';

function keyIdOf(pem: string): string | null {
  try {
    return keyId(loadPublicKey(pem));
  } catch {
    return null;
  }
}

/** `device.pub` and `dock.pub` in the evidence are never anchors: a copy that differs from the anchor is an error. */
function compareCopies(walk: DeviceWalk, anchor: Anchor | null, docks: readonly Anchor[], f: DeviceFindings): void {
  const pub = walk.devicePub;
  if (pub !== null && anchor !== null) {
    const id = keyIdOf(pub.pem);
    if (id !== anchor.id) {
      const what = id === null ? 'is not a public key' : `is key ${id}`;
      f.error('device-key-differs', `${DEVICE_KEY_FILE} here ${what}, not the anchor ${anchor.id}: replaced`, {
        segment: pub.rel,
      });
    }
  }
  const dockPub = walk.dockPub;
  if (dockPub !== null && docks.length > 0) {
    const id = keyIdOf(dockPub.pem);
    if (id === null || !docks.some((d) => d.id === id)) {
      const what = id === null ? 'is not a public key' : `is key ${id}`;
      const given = docks.map((d) => d.id).join(', ');
      f.error('dock-key-differs', `${DOCK_KEY_FILE} here ${what}, not the dock key given (${given}): replaced`, {
        segment: dockPub.rel,
      });
    }
  }
}

function classify(records: readonly ManifestRecord[], device: string, anchor: Anchor | null, f: DeviceFindings) {
  for (const r of records) {
    const where = { incident: r.dir, segment: r.target };
    const claimed = r.env.payload.device;
    if (anchor !== null && r.env.keyId !== anchor.id) {
      r.status = 'foreign';
      f.error(
        'wrong-device',
        `signed by key ${r.env.keyId} (device ${claimed}), not by ${device}'s key ${anchor.id}`,
        where,
      );
    } else if (anchor !== null && !verifySignature(r.env, anchor.key)) {
      r.status = 'bad';
      f.error('bad-signature', 'the signature does not match the manifest: altered after signing', where);
    } else if (claimed !== device) {
      r.status = 'foreign';
      f.error('wrong-device', `a manifest of device ${claimed}, not of ${device}`, where);
    } else {
      r.status = anchor === null ? 'unchecked' : 'valid';
    }
  }
}

/** Verifies one walked device against its anchor (null: none, an error) and the anchored dock keys. */
export async function verifyDevice(
  walk: DeviceWalk,
  anchor: Anchor | null,
  docks: readonly Anchor[],
  f: DeviceFindings,
  files: FileRead[],
): Promise<DeviceResult> {
  const device = walk.device.id;
  const camera = walk.device.kind === 'camera';
  if (anchor === null) {
    f.error(
      'unknown-key',
      `no trust anchor for device ${device || '(unknown)'}: nothing here is proven; give its public key from the ` +
        `provisioning records: --key ${device || 'DEVICE'}=FILE`,
    );
  }
  compareCopies(walk, anchor, docks, f);
  const records = walk.incidents.flatMap((s) => [...s.segments, ...(s.closing === null ? [] : [s.closing])]);
  classify(records, device, anchor, f);
  const chained = records.filter((r) => r.status !== 'foreign');
  checkChain(chained, f);
  const contents = new Map<string, string>();
  for (const r of chained) if (r.env.payload.kind === 'segment') contents.set(r.env.payload.segment.sha256, r.target);
  const incidents = [];
  for (const scan of walk.incidents) incidents.push(await checkIncident(scan, { f, contents, docks, files }));
  const receipts = walk.incidents.some((s) => s.receipts.size > 0);
  const expected = camera ? receipts : chained.length > 0;
  const dockings = await checkDockings(walk.dockings, walk.device.rel, device, !camera, docks, expected, f, files);
  const watch = new Set(dockings.audit === null ? [] : [dockings.audit.seq]);
  const audit = await checkAudit(walk.audit, walk.device.rel, anchor, watch, camera && chained.length > 0, f, files);
  const completeness = checkCompleteness(
    relJoin(walk.device.rel, AUDIT_LOG),
    camera ? FOOTAGE_DIR : walk.device.rel,
    chained,
    audit,
    dockings,
    f,
  );
  return {
    device,
    keySource: anchor?.source ?? 'none',
    keyId: anchor?.id ?? null,
    incidents,
    manifests: chained.length,
    auditEntries: audit.entries,
    completeness,
  };
}
