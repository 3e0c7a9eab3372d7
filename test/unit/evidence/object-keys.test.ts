import { describe, expect, it } from 'vitest';
import {
  auditBatchObject,
  deviceKeyObject,
  incidentObject,
  parseEvidenceKey,
} from '../../../src/evidence/object-keys.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';

const root = { prefix: 'bodycam/be', organisation: 'pz5339' };
const bare = { prefix: '', organisation: 'federal' };
const INC = 'cam-0042-20260301T100000Z-a1b2';

describe('object keys', () => {
  it.each([
    [deviceKeyObject(root, 'cam-0042'), 'bodycam/be/pz5339/cam-0042/device.pub'],
    [deviceKeyObject(bare, 'cam-0042'), 'federal/cam-0042/device.pub'],
    [auditBatchObject(root, 'cam-0042', 0, 41), 'bodycam/be/pz5339/cam-0042/audit/000000000000-000000000041.jsonl'],
    [auditBatchObject(bare, 'c', 7, 7), 'federal/c/audit/000000000007-000000000007.jsonl'],
    [incidentObject(root, 'cam-0042', INC, '0000.mp4.age'), `bodycam/be/pz5339/cam-0042/${INC}/0000.mp4.age`],
    [
      incidentObject(bare, 'cam-0042', INC, '0001.mp4.age.manifest.json'),
      `federal/cam-0042/${INC}/0001.mp4.age.manifest.json`,
    ],
  ])('%s', (key, expected) => {
    expect(key).toBe(expected);
  });

  it('audit batch names sort in sequence order', () => {
    const names = [
      [1000, 1999],
      [0, 999],
      [2000, 2000],
    ].map(([a, b]) => auditBatchObject(root, 'd', a ?? 0, b ?? 0));
    expect([...names].sort()).toEqual([names[1], names[0], names[2]]);
  });

  it.each([
    ['a device with a slash', () => deviceKeyObject(root, 'a/b')],
    ['an organisation ..', () => deviceKeyObject({ prefix: '', organisation: '..' }, 'd')],
    ['an empty incident', () => incidentObject(root, 'd', '', '0000.mp4.age')],
    ['a file with a backslash', () => incidentObject(root, 'd', INC, 'x\\y')],
    ['the reserved incident "audit"', () => incidentObject(root, 'd', 'audit', '0000.mp4.age')],
    ['the reserved incident "device.pub"', () => incidentObject(root, 'd', 'device.pub', 'x')],
    ['a batch that runs backwards', () => auditBatchObject(root, 'd', 5, 4)],
    ['a negative sequence number', () => auditBatchObject(root, 'd', -1, 4)],
  ])('refuses %s', (_why, build) => {
    expect(build).toThrow(expect.objectContaining({ code: 'EVIDENCE_FORMAT' }));
    try {
      build();
    } catch (e) {
      expect(isBodycamError(e)).toBe(true);
    }
  });

  it.each([
    ['bodycam/be/pz5339/cam-0042/device.pub', { kind: 'device-key', device: 'cam-0042' }],
    [
      'bodycam/be/pz5339/cam-0042/audit/000000000000-000000000041.jsonl',
      { kind: 'audit', device: 'cam-0042', first: 0, last: 41 },
    ],
    [`bodycam/be/pz5339/d/${INC}/0000.mp4.age`, { kind: 'segment', device: 'd', incident: INC, file: '0000.mp4.age' }],
    [
      `bodycam/be/pz5339/d/${INC}/0000.mp4.age.manifest.json`,
      { kind: 'manifest', device: 'd', incident: INC, file: '0000.mp4.age.manifest.json' },
    ],
    [`bodycam/be/pz5339/d/${INC}/incident.manifest.json`, { kind: 'closing', device: 'd', incident: INC }],
  ])('parses %s', (key, expected) => {
    expect(parseEvidenceKey(root, key)).toEqual(expected);
  });

  it.each([
    ['bodycam/be/other-zone/d/device.pub', 'not under'],
    ['bodycam/be/pz5339/d/notes.txt', 'beside the device key'],
    ['bodycam/be/pz5339/d/audit/0-1.jsonl', 'audit batch'],
    ['bodycam/be/pz5339/d/audit/000000000009-000000000001.jsonl', 'audit batch'],
    ['bodycam/be/pz5339/d/device.pub/x', 'under the device key'],
    ['bodycam/be/pz5339/d/inc/sub/0000.mp4.age', 'not <device>/<incident>/<file>'],
    ['bodycam/be/pz5339/d//0000.mp4.age', 'plain name'],
    ['bodycam/be/pz5339/d/../0000.mp4.age', 'plain name'],
    ['bodycam/be/pz5339/d', 'not <device>/<incident>/<file>'],
  ])('calls %s unexpected (%s)', (key, reason) => {
    const parsed = parseEvidenceKey(root, key);
    expect(parsed.kind).toBe('unexpected');
    expect(parsed.kind === 'unexpected' ? parsed.reason : '').toContain(reason);
  });
});
