/**
 * Trust anchors: the keys evidence is checked against, only ever from outside the checked tree. Device keys come
 * from the command line (`--key DEVICE=FILE`, or `--key FILE` for a tree of one device) or, for a dock directory,
 * from its enrolment records (`devices/<id>/device.pub`); dock keys (receipts, docking records) from `--dock-key` or
 * a dock directory's `identity/dock.pub`. A `device.pub` or `dock.pub` inside the evidence is at most compared with
 * the anchor. A key given for a device the tree does not hold is an error.
 */
import type { KeyObject } from 'node:crypto';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import type { Layout } from './classify.ts';
import { keyId, loadPublicKey } from './keys.ts';
import type { AnchorUsed, DeviceFindings } from './report.ts';

export interface Anchor {
  key: KeyObject;
  id: string;
  source: 'given' | 'enrolment';
  file?: string;
}

/** The keys a custodian gives. */
export interface GivenKeys {
  /** Device keys by device id (`--key DEVICE=FILE`). */
  devices?: ReadonlyMap<string, KeyObject>;
  /** `--key FILE`: the key of the tree's only device. */
  single?: KeyObject;
  /** `--dock-key FILE` (repeatable): keys of docks whose receipts and docking records count. */
  docks?: readonly KeyObject[];
  /** The files these keys were read from: none may lie inside the evidence checked. */
  files?: readonly string[];
}

/** EVIDENCE_KEY when a key file lies inside `evidence`: an anchor must come from outside what it vouches for. */
export function keysOutside(files: readonly string[], evidence: string): void {
  let root: string;
  try {
    root = realpathSync(evidence);
  } catch {
    return;
  }
  for (const file of files) {
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      continue;
    }
    const rel = path.relative(root, real);
    if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) {
      throw new BodycamError(
        ErrorCode.EVIDENCE_KEY,
        `the key ${file} lies inside the evidence checked (${evidence}): a trust anchor must come from outside it ` +
          '(the provisioning or enrolment records)',
      );
    }
  }
}

function checked(key: KeyObject, what: string): { key: KeyObject; id: string } {
  if (key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
    throw new BodycamError(ErrorCode.EVIDENCE_KEY, `the key given for ${what} is not an Ed25519 public key`);
  }
  return { key, id: keyId(key) };
}

function enrolled(pem: string): { key: KeyObject; id: string } | null {
  try {
    const key = loadPublicKey(pem);
    return { key, id: keyId(key) };
  } catch {
    return null;
  }
}

export class Anchors {
  readonly #devices = new Map<string, Anchor>();
  readonly #single: { key: KeyObject; id: string } | null;
  readonly #enrolment: Layout['enrolment'];
  readonly docks: Anchor[] = [];

  /** Checks the given keys (EVIDENCE_KEY for anything but an Ed25519 public key). */
  constructor(given: GivenKeys, layout: Layout) {
    for (const [device, key] of given.devices ?? [])
      this.#devices.set(device, { ...checked(key, device), source: 'given' });
    this.#single = given.single === undefined ? null : checked(given.single, 'the device');
    this.#enrolment = layout.enrolment;
    for (const key of given.docks ?? []) this.docks.push({ ...checked(key, 'the dock'), source: 'given' });
    const dock = layout.enrolment?.dock;
    if (dock !== undefined && dock !== null) {
      const k = enrolled(dock.pem);
      if (k !== null && !this.docks.some((d) => d.id === k.id))
        this.docks.push({ ...k, source: 'enrolment', file: dock.file });
    }
  }

  /**
   * The anchor of `device` in a tree of `deviceCount` devices: a key given for it, else the single `--key FILE` when
   * the tree holds one device, else its enrolment record. A given key that differs from the enrolment record is an
   * error (reported in `f`).
   */
  device(device: string, deviceCount: number, f: DeviceFindings): Anchor | null {
    const record = this.#enrolment?.devices.get(device);
    const fromRecord = record === undefined ? null : enrolled(record.pem);
    if (record !== undefined && fromRecord === null) {
      f.error('malformed', `the enrolment record ${record.file} is not a device public key`);
    }
    let anchor: Anchor | null = this.#devices.get(device) ?? null;
    if (anchor === null && this.#single !== null && deviceCount === 1) anchor = { ...this.#single, source: 'given' };
    if (anchor !== null && fromRecord !== null && fromRecord.id !== anchor.id) {
      f.error(
        'device-key-differs',
        `the key given (${anchor.id}) is not the one enrolled at this dock (${fromRecord.id}, ${record?.file})`,
      );
    }
    if (anchor === null && fromRecord !== null && record !== undefined) {
      anchor = { ...fromRecord, source: 'enrolment', file: record.file };
    }
    return anchor;
  }

  /** Given keys for devices the tree does not hold, and a single key given for a tree of several devices. */
  unused(devices: readonly string[], f: DeviceFindings): void {
    for (const [device, a] of this.#devices) {
      if (devices.includes(device)) continue;
      f.error('key-unused', `a key (${a.id}) was given for device ${device}, which this tree does not hold`);
    }
    if (this.#single !== null && devices.length !== 1) {
      const held = devices.length === 0 ? 'no device' : `devices ${devices.join(', ')}`;
      f.error('key-unused', `--key without a device name fits a tree of one device; this one holds ${held}`);
    }
  }

  /** The dock anchor that signed with `keyId`, if any. */
  dock(keyIdOf: string): Anchor | undefined {
    return this.docks.find((d) => d.id === keyIdOf);
  }

  /** What was used, for the report. */
  static describe(device: string, a: Anchor): AnchorUsed {
    return { role: 'device', device, keyId: a.id, source: a.source, ...(a.file === undefined ? {} : { file: a.file }) };
  }
}
