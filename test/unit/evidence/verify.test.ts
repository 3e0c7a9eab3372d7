/**
 * The verifier's layouts, keys, audit log and the warnings that are not tampering (offloaded evidence, open
 * incidents, power cuts).
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditChain, auditLine } from '../../../src/evidence/audit.ts';
import { formatReport, verifyDirectory } from '../../../src/evidence/verify.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';
import { DeviceBuilder, INC_A, INC_B, removeTempDirs, seg, standardDevice, summary, tempDir } from './builder.ts';

afterAll(removeTempDirs);

describe('verifyDirectory: layouts', () => {
  it("describes an untouched camera's storage directory", async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    const report = await verifyDirectory(dir);
    expect(report.ok).toBe(true);
    expect(report.findings).toEqual([]);
    expect(report.notes).toEqual([]);
    expect(report.root).toBe(dir);
    expect(report.devices).toHaveLength(1);
    const [device] = report.devices;
    expect(device).toMatchObject({ device: 'cam-0042', keySource: 'directory', keyId: d.kid });
    expect(device?.manifests).toBe(7);
    expect(device?.auditEntries).toBe(6);
    expect(device?.incidents.map((i) => [i.id, i.ending, i.segments.map((s) => [s.seq, s.file, s.verified])])).toEqual([
      [INC_A, 'closed', [0, 1, 2].map((n) => [n, seg(INC_A, n), true])],
      [INC_B, 'closed', [0, 1].map((n) => [n, seg(INC_B, n), true])],
    ]);
  });

  it("verifies a dock's evidence directory, one subdirectory per device, incidents directly inside", async () => {
    const dir = await tempDir();
    await standardDevice(path.join(dir, 'cam-0042'), 'dock');
    await standardDevice(path.join(dir, 'cam-0099'), 'dock', 'cam-0099');
    await mkdir(path.join(dir, 'lost+found'));
    const report = await verifyDirectory(dir);
    expect(summary(report)).toEqual([]);
    expect(report.devices.map((d) => [d.device, d.manifests, d.auditEntries])).toEqual([
      ['cam-0042', 7, 6],
      ['cam-0099', 7, 6],
    ]);
    expect(report.devices[1]?.incidents[0]?.segments[0]?.file).toBe(`cam-0099/${INC_A}/0000.mp4.age`);
    // A device filed under another device's name is caught.
    await rm(path.join(dir, 'cam-0099', INC_B), { recursive: true });
    await cp(path.join(dir, 'cam-0099'), path.join(dir, 'cam-0100'), { recursive: true });
    const renamed = await verifyDirectory(dir);
    expect(renamed.findings.filter((f) => f.device === 'cam-0100').map((f) => f.code)).toContain('wrong-device');
  });

  it('refuses a root that is not a directory of evidence', async () => {
    const empty = await tempDir();
    for (const root of [path.join(empty, 'absent'), empty]) {
      const e = await verifyDirectory(root).catch((x: unknown) => x);
      expect(isBodycamError(e, 'EVIDENCE_UNREADABLE')).toBe(true);
    }
    const d = new DeviceBuilder('cam-1', empty);
    const e = await verifyDirectory(empty, { publicKeys: new Map([['cam-1', d.privateKey]]) }).catch((x) => x);
    expect(isBodycamError(e, 'EVIDENCE_KEY')).toBe(true);
  });
});

describe('verifyDirectory: keys', () => {
  it('uses a given key over device.pub, and says which it used', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    const report = await verifyDirectory(dir, { publicKeys: new Map([['cam-0042', d.publicKey]]) });
    expect(report.ok).toBe(true);
    expect(report.devices[0]?.keySource).toBe('given');
    expect(formatReport(report)).toMatch(/cam-0042: key given by the verifier/);
  });

  it('catches evidence forged with a replaced device.pub only when the real key is given', async () => {
    const real = await standardDevice(await tempDir());
    const dir = await tempDir();
    await standardDevice(dir); // the same device id, another key: a forger who replaced everything
    const fromDirectory = await verifyDirectory(dir);
    expect(fromDirectory.ok).toBe(true);
    expect(formatReport(fromDirectory)).toMatch(/against accident, not against replacement/);
    const given = await verifyDirectory(dir, { publicKeys: new Map([['cam-0042', real.publicKey]]) });
    expect(given.ok).toBe(false);
    expect(given.devices[0]?.keySource).toBe('given');
    const codes = summary(given);
    expect(codes).toContain('warning device-key-differs device.pub');
    expect(codes.filter((c) => c.startsWith('error wrong-device footage/'))).toHaveLength(7);
    expect(codes.filter((c) => !c.includes('wrong-device'))).toEqual(['warning device-key-differs device.pub']);
    expect(codes.filter((c) => c.startsWith('error wrong-device audit.jsonl'))).toHaveLength(6);
  });

  it('reports a device without any key, and still checks the segment hashes', async () => {
    const dir = await tempDir();
    await standardDevice(dir);
    await rm(path.join(dir, 'device.pub'));
    await writeFile(path.join(dir, seg(INC_B, 0)), 'altered');
    const report = await verifyDirectory(dir);
    expect(report.devices[0]?.keySource).toBe('none');
    expect(summary(report)).toEqual([`error size-mismatch ${seg(INC_B, 0)}`, 'error unknown-key -']);
  });

  it('warns when keys were given but not for this device', async () => {
    const dir = await tempDir();
    await standardDevice(dir);
    const stranger = new DeviceBuilder('cam-7', dir);
    const report = await verifyDirectory(dir, { publicKeys: new Map([['cam-7', stranger.publicKey]]) });
    expect(summary(report)).toEqual(['warning key-not-given -']);
    expect(report.devices[0]?.keySource).toBe('directory');
  });
});

describe('verifyDirectory: chain and incidents', () => {
  it('reports a gap in the middle of the manifest chain', async () => {
    const dir = await tempDir();
    const d = new DeviceBuilder('cam-3', dir);
    await d.writeKey();
    await d.segment('inc-1', 100);
    await d.close('inc-1'); // chainSeq 1
    await d.segment('inc-2', 100, { write: false }); // 2: never reaches this directory
    await d.close('inc-2', { write: false }); // 3
    await d.segment('inc-3', 100); // 4
    await d.close('inc-3'); // 5
    await d.log('docked');
    const report = await verifyDirectory(dir);
    expect(summary(report)).toEqual(['error chain-gap -']);
    expect(report.findings[0]?.message).toMatch(/chainSeq 2–3 missing, between footage\/inc-1\/incident/);
  });

  it('warns, without failing, about evidence offloaded earlier', async () => {
    const dir = await tempDir();
    await standardDevice(dir);
    await rm(path.join(dir, 'footage', INC_A), { recursive: true });
    const whole = await verifyDirectory(dir);
    expect(whole.ok).toBe(true);
    expect(summary(whole)).toEqual(['warning chain-starts-late -']);
    expect(whole.findings[0]?.message).toMatch(/earliest manifest here is chainSeq 4 .*manifests 0–3/);
    // Part of an incident offloaded: the segments before the first one left are only a warning.
    const partly = await tempDir();
    await standardDevice(partly);
    for (const n of [0, 1]) {
      await rm(path.join(partly, seg(INC_A, n)));
      await rm(path.join(partly, `${seg(INC_A, n)}.manifest.json`));
    }
    const part = await verifyDirectory(partly);
    expect(part.ok).toBe(true);
    expect(summary(part)).toEqual(['warning chain-starts-late -', `warning incident-incomplete footage/${INC_A}`]);
  });

  it('warns about an open incident and notes a segment recovered after a power loss', async () => {
    const dir = await tempDir();
    const d = new DeviceBuilder('cam-5', dir);
    await d.writeKey();
    await d.log('activation', 'inc-1');
    await d.segment('inc-1', 300);
    await d.segment('inc-1', 200, { ending: 'recovered' });
    await writeFile(path.join(dir, 'footage', 'inc-1', '0002.mp4.age.partial'), 'being written');
    const report = await verifyDirectory(dir);
    expect(report.ok).toBe(true);
    expect(summary(report)).toEqual(['warning incident-open inc-1']);
    expect(report.devices[0]?.incidents[0]?.ending).toBe('open');
    expect(report.notes.map((n) => [n.code, n.segment])).toEqual([
      ['partial', 'footage/inc-1/0002.mp4.age.partial'],
      ['recovered', 'footage/inc-1/0001.mp4.age'],
    ]);
    expect(formatReport(report)).toMatch(
      /note {4}cam-5 footage\/inc-1\/0001.mp4.age: recovered: ended at a power loss/,
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
    return verifyDirectory(dir);
  }

  it('reports a removed entry as a gap', async () => {
    const report = await auditCase((lines) => lines.filter((_, i) => i !== 2));
    expect(summary(report)).toEqual(['error audit-gap audit.jsonl:3']);
    expect(report.findings[0]?.message).toMatch(/entries 2 missing/);
  });

  it('reports an edited entry by its line', async () => {
    const report = await auditCase((lines) => lines.map((l, i) => (i === 3 ? l.replace('"nl"', '"fr"') : l)));
    expect(summary(report)).toEqual(['error bad-signature audit.jsonl:4']);
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
    expect(summary(report)).toEqual(['warning audit-torn-tail audit.jsonl:7']);
    expect(report.devices[0]?.auditEntries).toBe(6);
  });
});

describe('formatReport', () => {
  it('prints one line per finding naming the file and why, then a summary', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    await writeFile(path.join(dir, seg(INC_A, 1)), 'x');
    const text = formatReport(await verifyDirectory(dir, { publicKeys: new Map([['cam-0042', d.publicKey]]) }));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`Evidence check of ${dir}`);
    expect(lines[1]).toBe(`ERROR   cam-0042 ${seg(INC_A, 1)}: size-mismatch: 1 bytes instead of 2500: truncated`);
    expect(lines[2]).toMatch(
      /^cam-0042: key given by the verifier \[key [0-9a-f]{32}\]; 2 incident\(s\) \(0 open\), 4 of 5/,
    );
    expect(lines[3]).toBe('FAILED: 1 error(s), 0 warning(s)');
  });
});
