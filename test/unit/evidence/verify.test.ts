/**
 * The verifier's layouts, trust anchors, chain, incidents and audit log, and what is not tampering (open incidents,
 * power cuts). Every check is given the device key from outside the checked tree, as a custodian would.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditChain, auditLine } from '../../../src/evidence/audit.ts';
import { formatReport, verifyDirectory } from '../../../src/evidence/verify.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';
import {
  DeviceBuilder,
  INC_A,
  INC_B,
  keysOf,
  removeTempDirs,
  seg,
  standardDevice,
  summary,
  tempDir,
} from './builder.ts';

afterAll(removeTempDirs);

describe('verifyDirectory: layouts', () => {
  it("describes an untouched camera's storage directory", async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    const report = await verifyDirectory(dir, keysOf(d));
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.notes).toEqual([]);
    expect(report.root).toBe(dir);
    expect(report.layout).toEqual({
      kind: 'camera-storage',
      seen: ['index.sqlite', 'audit.jsonl', 'footage'],
      evidence: dir,
    });
    expect(report.devices).toHaveLength(1);
    const [device] = report.devices;
    expect(device).toMatchObject({ device: 'cam-0042', keySource: 'given', keyId: d.kid });
    expect(device?.manifests).toBe(7);
    expect(device?.auditEntries).toBe(13);
    expect(device?.completeness).toEqual({ chain: null, audit: null });
    expect(device?.incidents.map((i) => [i.id, i.ending, i.segments.map((s) => [s.seq, s.file, s.verified])])).toEqual([
      [INC_A, 'closed', [0, 1, 2].map((n) => [n, seg(INC_A, n), true])],
      [INC_B, 'closed', [0, 1].map((n) => [n, seg(INC_B, n), true])],
    ]);
    // Every file read is listed with its hash: 5 segments, 7 manifests, the audit log, device.pub.
    expect(report.files.map((f) => f.file).sort()).toHaveLength(14);
    expect(report.files.find((f) => f.file === seg(INC_A, 0))?.bytes).toBe(3000);
  });

  it("verifies a dock's evidence directory, one subdirectory per device, incidents directly inside", async () => {
    const dir = await tempDir();
    const a = await standardDevice(path.join(dir, 'cam-0042'), 'dock');
    const b = await standardDevice(path.join(dir, 'cam-0099'), 'dock', 'cam-0099');
    await mkdir(path.join(dir, 'lost+found'));
    const report = await verifyDirectory(dir, keysOf(a, b));
    expect(report.layout.kind).toBe('dock-evidence');
    expect(summary(report)).toEqual([
      'warning lost-found lost+found',
      'warning no-docking-record cam-0042/dockings.jsonl',
      'warning no-docking-record cam-0099/dockings.jsonl',
    ]);
    expect(report.devices.map((d) => [d.device, d.manifests, d.auditEntries])).toEqual([
      ['cam-0042', 7, 13],
      ['cam-0099', 7, 13],
    ]);
    expect(report.devices[1]?.incidents[0]?.segments[0]?.file).toBe(
      `cam-0099/cam-0099-20260301T100000Z-a1b2/0000.mp4.age`,
    );
    // A device filed under another device's name is caught: its incidents and manifests are not the directory's.
    await rm(path.join(dir, 'cam-0099'), { recursive: true });
    await cp(path.join(dir, 'cam-0042'), path.join(dir, 'cam-0100'), { recursive: true });
    const renamed = await verifyDirectory(dir, {
      devices: new Map([
        ['cam-0042', a.publicKey],
        ['cam-0100', a.publicKey],
      ]),
    });
    const codes = renamed.findings.filter((f) => f.device === 'cam-0100').map((f) => f.code);
    expect(codes).toContain('wrong-device');
    expect(codes).toContain('foreign-incident');
  });

  it('refuses a root that is none of the layouts, and a key that is not an Ed25519 public key', async () => {
    const empty = await tempDir();
    await writeFile(path.join(empty, 'notes.txt'), 'x');
    for (const root of [path.join(empty, 'absent'), empty, path.join(empty, 'notes.txt')]) {
      const e = await verifyDirectory(root).catch((x: unknown) => x);
      expect(isBodycamError(e, 'EVIDENCE_UNREADABLE'), String(e)).toBe(true);
      expect((e as Error).message).toMatch(/camera directory \(config\.json, identity\/\)/);
    }
    const dir = await tempDir();
    const d = await standardDevice(dir);
    const e = await verifyDirectory(dir, { devices: new Map([['cam-0042', d.privateKey]]) }).catch((x) => x);
    expect(isBodycamError(e, 'EVIDENCE_KEY')).toBe(true);
  });
});

describe('verifyDirectory: trust anchors', () => {
  it('takes --key FILE as the key of the only device, and says so', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    const report = await verifyDirectory(dir, { single: d.publicKey });
    expect(report.ok).toBe(true);
    expect(report.anchors).toEqual([{ role: 'device', device: 'cam-0042', keyId: d.kid, source: 'given' }]);
    expect(formatReport(report)).toMatch(/cam-0042: key given by the verifier/);
  });

  it('never takes device.pub from the checked tree: without a key nothing is proven', async () => {
    const dir = await tempDir();
    await standardDevice(dir);
    const report = await verifyDirectory(dir);
    expect(report.ok).toBe(false);
    expect(report.devices[0]?.keySource).toBe('none');
    expect(summary(report)).toEqual(['error unknown-key -']);
    expect(report.findings[0]?.message).toContain('--key cam-0042=FILE');
    expect(report.devices[0]?.incidents.flatMap((i) => i.segments).some((s) => s.verified)).toBe(false);
  });

  it('catches evidence forged with a replaced device.pub when the real key is given', async () => {
    const real = await standardDevice(await tempDir());
    const dir = await tempDir();
    await standardDevice(dir); // the same device id, another key: a forger who replaced everything
    const given = await verifyDirectory(dir, keysOf(real));
    expect(given.ok).toBe(false);
    const codes = summary(given);
    expect(codes).toContain('error device-key-differs device.pub');
    expect(codes.filter((c) => c.startsWith('error wrong-device footage/'))).toHaveLength(7);
    expect(codes.filter((c) => c.startsWith('error wrong-device audit.jsonl'))).toHaveLength(13);
  });

  it('reports a key given for a device the tree does not hold, and the device left without one', async () => {
    const dir = await tempDir();
    await standardDevice(dir);
    const stranger = new DeviceBuilder('cam-7', dir);
    const report = await verifyDirectory(dir, keysOf(stranger));
    expect(summary(report)).toEqual(['error key-unused -', 'error unknown-key -']);
    // --key FILE of another device on this storage: every signature is another key's.
    const single = await verifyDirectory(dir, { single: stranger.publicKey });
    expect(single.ok).toBe(false);
    expect(summary(single)).toContain(`error wrong-device ${seg(INC_A, 0)}`);
  });

  it('names a storage with nothing signed yet after the device a key was given for; its signatures decide', async () => {
    const dir = await tempDir();
    const d = new DeviceBuilder('cam-8', dir);
    await d.writeKey();
    await d.log('started');
    await d.log('storage_ok');
    const report = await verifyDirectory(dir, keysOf(d));
    expect(summary(report)).toEqual([]);
    expect(report.devices.map((x) => [x.device, x.auditEntries])).toEqual([['cam-8', 2]]);
    const other = new DeviceBuilder('cam-8', dir); // the same name, another key
    const wrong = await verifyDirectory(dir, keysOf(other));
    expect(summary(wrong)).toEqual([
      'error device-key-differs device.pub',
      'error wrong-device audit.jsonl:1',
      'error wrong-device audit.jsonl:2',
    ]);
  });

  it('refuses a key file that lies inside the evidence checked', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    const inside = { ...keysOf(d), files: [path.join(dir, 'device.pub')] };
    const e = await verifyDirectory(dir, inside).catch((x: unknown) => x);
    expect(isBodycamError(e, 'EVIDENCE_KEY')).toBe(true);
    expect((e as Error).message).toMatch(/lies inside the evidence checked/);
  });
});

describe('verifyDirectory: chain and incidents', () => {
  it('reports a gap in the middle of the manifest chain', async () => {
    const dir = await tempDir();
    const d = new DeviceBuilder('cam-3', dir);
    await d.writeKey();
    await d.segment(d.incident(1), 100);
    await d.close(d.incident(1)); // chainSeq 1
    await d.segment(d.incident(2), 100, { write: false }); // 2: never reaches this directory
    await d.close(d.incident(2), { write: false }); // 3
    await d.segment(d.incident(3), 100); // 4
    await d.close(d.incident(3)); // 5
    await d.log('docked');
    const report = await verifyDirectory(dir, keysOf(d));
    // The audit log still names the two manifests that never arrived.
    expect(summary(report)).toEqual([
      'error chain-gap -',
      `error manifest-missing footage/${d.incident(2)}/0000.mp4.age.manifest.json`,
      `error manifest-missing footage/${d.incident(2)}/incident.manifest.json`,
    ]);
    expect(report.findings[0]?.message).toMatch(/chainSeq 2–3 missing, between footage\/cam-3-\S+\/incident/);
  });

  it('reports evidence missing at the start of the chain: nothing on a camera deletes a manifest', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    await rm(path.join(dir, 'footage', INC_A), { recursive: true });
    const whole = await verifyDirectory(dir, keysOf(d));
    expect(whole.ok).toBe(false);
    expect(summary(whole)).toContain('error chain-starts-late -');
    expect(whole.findings.find((f) => f.code === 'chain-starts-late')?.message).toMatch(/chainSeq 4 .*manifests 0–3/);
    // The first segments of an incident gone with their manifests: missing, not "offloaded earlier".
    const partly = await tempDir();
    const p = await standardDevice(partly);
    for (const n of [0, 1]) {
      await rm(path.join(partly, seg(INC_A, n)));
      await rm(path.join(partly, `${seg(INC_A, n)}.manifest.json`));
    }
    const part = await verifyDirectory(partly, keysOf(p));
    expect(summary(part)).toEqual(
      [
        'error chain-starts-late -',
        `error manifest-missing ${seg(INC_A, 0)}.manifest.json`,
        `error manifest-missing ${seg(INC_A, 1)}.manifest.json`,
        `error incident-incomplete footage/${INC_A}`,
      ].sort(),
    );
  });

  it('warns about an open incident and notes a segment recovered after a power loss', async () => {
    const dir = await tempDir();
    const d = new DeviceBuilder('cam-5', dir);
    const inc = d.incident(1);
    await d.writeKey();
    await d.log('activation', inc);
    await d.segment(inc, 300);
    await d.segment(inc, 200, { ending: 'recovered' });
    await writeFile(path.join(dir, 'footage', inc, '0002.mp4.age.partial'), 'being written');
    const report = await verifyDirectory(dir, keysOf(d));
    expect(report.ok).toBe(true);
    expect(summary(report)).toEqual([`warning incident-open ${inc}`]);
    expect(report.devices[0]?.incidents[0]?.ending).toBe('open');
    expect(report.notes.map((n) => [n.code, n.segment])).toEqual([
      ['partial', `footage/${inc}/0002.mp4.age.partial`],
      ['recovered', `footage/${inc}/0001.mp4.age`],
    ]);
    expect(formatReport(report)).toMatch(
      /note {4}cam-5 footage\/cam-5-\S+\/0001.mp4.age: recovered: cut short \(a power loss, a crash or a write the card failed/,
    );
  });
});

describe('verifyDirectory: audit log', () => {
  let device: DeviceBuilder;
  async function auditCase(edit: (lines: string[]) => string[] | string) {
    const dir = await tempDir();
    device = await standardDevice(dir);
    const file = path.join(dir, 'audit.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n').slice(0, -1);
    const edited = edit(lines);
    await writeFile(file, typeof edited === 'string' ? edited : edited.map((l) => `${l}\n`).join(''));
    return verifyDirectory(dir, keysOf(device));
  }

  it('reports a removed entry as a gap', async () => {
    const report = await auditCase((lines) => lines.filter((_, i) => i !== 2));
    expect(summary(report)).toEqual(['error audit-gap audit.jsonl:3']);
    expect(report.findings[0]?.message).toMatch(/entries 2 missing/);
  });

  it('reports a log whose first entries were cut', async () => {
    const report = await auditCase((lines) => lines.slice(2));
    expect(summary(report)).toEqual(['error audit-starts-late audit.jsonl:1']);
  });

  it('reports an edited entry by its line', async () => {
    const report = await auditCase((lines) =>
      lines.map((l) => (l.includes('warning_given') ? l.replace('"nl"', '"fr"') : l)),
    );
    expect(summary(report)).toEqual(['error bad-signature audit.jsonl:8']);
  });

  it('reports reordered entries and a garbled line in the middle', async () => {
    const swapped = await auditCase(([a, b, ...rest]) => [b ?? '', a ?? '', ...rest]);
    expect(summary(swapped)).toContain('error audit-broken audit.jsonl:2');
    const garbled = await auditCase((lines) => lines.map((l, i) => (i === 1 ? l.slice(0, 30) : l)));
    expect(summary(garbled)).toEqual(['error audit-gap audit.jsonl:3', 'error audit-malformed audit.jsonl:2']);
  });

  it('reports an entry replaced by another one signed with the device key', async () => {
    let forged = '';
    const report = await auditCase((lines) => {
      const entry = JSON.parse(lines[2] ?? '');
      const chain = new AuditChain({ seq: 1, hash: entry.payload.prev });
      const { at, incident, data } = entry.payload;
      const fields = { at, incident, data, kind: 'nothing_happened' };
      forged = auditLine(chain.append(fields, device.privateKey, device.kid));
      return lines.map((l, i) => (i === 2 ? forged.trimEnd() : l));
    });
    expect(forged).toContain('nothing_happened');
    expect(summary(report)).toEqual(['error audit-broken audit.jsonl:4']);
  });

  it('only warns about a torn last line', async () => {
    const report = await auditCase((lines) => `${lines.map((l) => `${l}\n`).join('')}{"payload":{"at":"2026`);
    expect(report.ok).toBe(true);
    expect(summary(report)).toEqual(['warning audit-torn-tail audit.jsonl:14']);
    expect(report.devices[0]?.auditEntries).toBe(13);
  });
});

describe('formatReport', () => {
  it('prints the layout read, one line per finding naming the file and why, then a summary', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    await writeFile(path.join(dir, seg(INC_A, 1)), 'x');
    const text = formatReport(await verifyDirectory(dir, keysOf(d)));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`Evidence check of ${dir}`);
    expect(lines[1]).toBe("Read as a camera's storage directory (index.sqlite, audit.jsonl, footage); 14 file(s) read");
    expect(lines[2]).toBe(`anchor  device key of cam-0042 ${d.kid} (given)`);
    expect(lines[3]).toBe(`ERROR   cam-0042 ${seg(INC_A, 1)}: size-mismatch: 1 bytes instead of 2500: truncated`);
    expect(lines[4]).toMatch(
      /^cam-0042: key given by the verifier \[key [0-9a-f]{32}\]; 2 incident\(s\) \(0 open\), 4 of 5/,
    );
    expect(lines[5]).toMatch(/completeness: no dock record vouches for it/);
    expect(lines[6]).toBe('FAILED: 1 error(s), 0 warning(s)');
  });
});
