/** The evidence layout's builders and its reading of incident directory entries, as tables. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  auditLogFile,
  closingManifestFile,
  deviceKeyFile,
  dockDeviceDir,
  dockIncidentDir,
  dockingsLogFile,
  dockKeyFile,
  footagePath,
  INDEX_FILES,
  incidentDir,
  incidentEntry,
  indexFile,
  isTransferFile,
  manifestFileFor,
  parseFootagePath,
  partialFileFor,
  receiptFileFor,
  segmentFileName,
  segmentPath,
  tailFileFor,
  tailTmpFileFor,
  tmpFileFor,
  transferFile,
} from '../../../src/evidence/paths.ts';

const INC = 'cam-1-20250101T000000Z-abcd';

describe('evidence paths', () => {
  it('builds the camera storage layout', () => {
    const s = '/var/lib/bodycam';
    expect(segmentFileName(7)).toBe('0007.mp4.age');
    expect(segmentFileName(12_345)).toBe('12345.mp4.age');
    expect(segmentPath(INC, 3)).toBe(`footage/${INC}/0003.mp4.age`);
    expect(path.join(s, segmentPath(INC, 3))).toBe(path.join(incidentDir(s, INC), segmentFileName(3)));
    expect(closingManifestFile(incidentDir(s, INC))).toBe(`${s}/footage/${INC}/incident.manifest.json`);
    expect(indexFile(s)).toBe(`${s}/index.sqlite`);
    expect(auditLogFile(s)).toBe(`${s}/audit.jsonl`);
    expect(dockingsLogFile(s)).toBe(`${s}/dockings.jsonl`);
    expect(deviceKeyFile(s)).toBe(`${s}/device.pub`);
    expect(dockKeyFile(s)).toBe(`${s}/dock.pub`);
    expect([...INDEX_FILES].sort()).toEqual([
      'index.sqlite',
      'index.sqlite-journal',
      'index.sqlite-shm',
      'index.sqlite-wal',
    ]);
  });

  it('builds the files beside a segment', () => {
    const seg = '/s/footage/x/0000.mp4.age';
    expect(manifestFileFor(seg)).toBe(`${seg}.manifest.json`);
    expect(receiptFileFor(seg)).toBe(`${seg}.receipt.json`);
    expect(receiptFileFor('/s/footage/x/incident.manifest.json')).toBe(
      '/s/footage/x/incident.manifest.json.receipt.json',
    );
    expect(partialFileFor(seg)).toBe(`${seg}.partial`);
    expect(tailFileFor(seg)).toBe(`${seg}.tail`);
    expect(tailTmpFileFor(seg)).toBe(`${seg}.tail.tmp`);
    expect(tmpFileFor(manifestFileFor(seg))).toBe(`${seg}.manifest.json.tmp`);
  });

  it("builds a dock's evidence tree and its transfer files", () => {
    expect(dockDeviceDir('/d/evidence', 'cam-1')).toBe('/d/evidence/cam-1');
    expect(dockIncidentDir('/d/evidence', 'cam-1', INC)).toBe(`/d/evidence/cam-1/${INC}`);
    const part = transferFile('/d/incoming', 'cam-1', INC, '0002.mp4.age');
    expect(part).toBe(`/d/incoming/cam-1/${INC}-0002.mp4.age.part`);
    expect(isTransferFile(path.basename(part))).toBe(true);
    expect(isTransferFile('0002.mp4.age')).toBe(false);
    expect(isTransferFile('0002.mp4.age.partial')).toBe(false);
  });

  it.each([
    [footagePath(INC, '0001.mp4.age.manifest.json'), { incident: INC, file: '0001.mp4.age.manifest.json' }],
    [`footage/${INC}/incident.manifest.json`, { incident: INC, file: 'incident.manifest.json' }],
    [`footage/${INC}`, null],
    [`footage/${INC}/a/b`, null],
    [`footage//x`, null],
    [`storage/${INC}/x`, null],
    ['', null],
  ])('parseFootagePath(%j)', (rel, expected) => {
    expect(parseFootagePath(rel)).toEqual(expected);
  });

  it.each([
    ['0000.mp4.age', { kind: 'segment' }],
    ['12345.mp4.age', { kind: 'segment' }],
    ['0000.mp4.age.manifest.json', { kind: 'manifest', subject: '0000.mp4.age' }],
    ['incident.manifest.json', { kind: 'closing' }],
    ['0000.mp4.age.receipt.json', { kind: 'receipt', subject: '0000.mp4.age' }],
    ['incident.manifest.json.receipt.json', { kind: 'receipt', subject: 'incident.manifest.json' }],
    ['0000.mp4.age.partial', { kind: 'work' }],
    ['0000.mp4.age.tail', { kind: 'work' }],
    ['0000.mp4.age.tail.tmp', { kind: 'work' }],
    ['0000.mp4.age.manifest.json.tmp', { kind: 'work' }],
    ['incident.manifest.json.tmp', { kind: 'work' }],
    ['0000.mp4.age.receipt.json.tmp', { kind: 'work' }],
    ['incident.manifest.json.receipt.json.tmp', { kind: 'work' }],
    ['000.mp4.age', null],
    ['0000.mp4', null],
    ['0000.mp4.age.tmp', null],
    ['0000.mp4.age.partial.tmp', null],
    ['0000.mp4.age.manifest.json.receipt.json', null],
    ['0000.mp4.age.manifest.json.receipt.json.tmp', null],
    ['x.manifest.json', null],
    ['incident.receipt.json', null],
    ['audit.jsonl', null],
    ['notes.txt', null],
  ])('incidentEntry(%j)', (name, expected) => {
    expect(incidentEntry(name)).toEqual(expected);
  });
});
