/**
 * The offline verifier: checks an evidence tree with nothing but public keys given from outside it, without
 * decrypting anything. It reads the path as one of four layouts (classify.ts) and walks it once (walk.ts); everything
 * that does not belong is an error, every file read is listed with its hash, and each device is checked against its
 * trust anchor (anchors.ts). Everything wrong inside the evidence is a finding, never an exception: it throws only
 * EVIDENCE_UNREADABLE (the path is none of the layouts) and EVIDENCE_KEY (a given key is not an Ed25519 public key).
 */
import { Anchors, type GivenKeys, keysOutside } from './anchors.ts';
import { DeviceFindings, type VerifyReport } from './report.ts';
import type { FileRead } from './tree-fs.ts';
import { verifyDevice } from './verify-device.ts';
import { type DeviceWalk, openTree, type Tree, walkDevice } from './walk.ts';

export type {
  DeviceResult,
  Finding,
  FindingCode,
  IncidentResult,
  Note,
  SegmentResult,
  VerifyReport,
} from './report.ts';
export { formatReport } from './report-text.ts';

export interface VerifyOptions extends GivenKeys {
  /** Check only this device of the tree (export); the tree's own findings are still reported. */
  only?: string;
}

/** A verified tree: the report, and each checked device's walk with its anchor (what export decrypts from). */
export interface Verified {
  report: VerifyReport;
  tree: Tree;
  walks: Map<string, { walk: DeviceWalk; anchor: ReturnType<Anchors['device']> }>;
  anchors: Anchors;
}

/** Verifies the tree at `path` (see the module comment), or a tree already opened with `openTree`. */
export async function verifyTree(path: string | Tree, options: VerifyOptions = {}): Promise<Verified> {
  const tree = typeof path === 'string' ? await openTree(path) : path;
  keysOutside(options.files ?? [], tree.layout.evidence);
  const anchors = new Anchors(options, tree.layout);
  const { layout } = tree;
  const files: FileRead[] = [];
  const report: VerifyReport = {
    ok: true,
    root: layout.root,
    layout: { kind: layout.kind, seen: layout.seen, evidence: layout.evidence },
    anchors: anchors.docks.map((d) => ({
      role: 'dock' as const,
      keyId: d.id,
      source: d.source,
      ...(d.file === undefined ? {} : { file: d.file }),
    })),
    devices: [],
    findings: [],
    notes: [],
    files,
  };
  const walks: Verified['walks'] = new Map();
  const ids: string[] = [];
  for (const device of tree.devices) {
    if (options.only !== undefined && device.idFrom === 'directory' && device.id !== options.only) {
      ids.push(device.id);
      continue;
    }
    const f = new DeviceFindings(device.id);
    const named = [...(options.devices?.keys() ?? [])];
    const walk = await walkDevice(device, f, files, named.length === 1 ? named[0] : undefined);
    ids.push(walk.device.id);
    const anchor = anchors.device(walk.device.id, tree.devices.length, f);
    if (anchor !== null) report.anchors.push(Anchors.describe(walk.device.id, anchor));
    report.devices.push(await verifyDevice(walk, anchor, anchors.docks, f, files));
    walks.set(walk.device.id, { walk, anchor });
    report.findings.push(...f.findings());
    report.notes.push(...f.notes());
  }
  anchors.unused(ids, tree.findings);
  report.findings.unshift(...tree.findings.findings());
  report.ok = report.findings.every((x) => x.severity !== 'error');
  return { report, tree, walks, anchors };
}

/** Verifies the tree at `path` and reports what it found. */
export async function verifyDirectory(path: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  return (await verifyTree(path, options)).report;
}
