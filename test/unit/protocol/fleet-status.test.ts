import { describe, expect, it } from 'vitest';
import {
  buildFleetStatus,
  type FleetFacts,
  type FleetStatus,
  fleetStatusKey,
  MAX_FLEET_STATUS_BYTES,
  parseFleetStatus,
} from '../../../src/protocol/fleet-status.ts';

const AT = Date.parse('2026-12-05T20:00:00.000Z');

const never: FleetFacts = {
  device: 'cam-1',
  enrolled: true,
  withdrawn: null,
  lastSeen: null,
  refused: 0,
  docking: null,
  claim: null,
  hello: null,
};

describe('buildFleetStatus', () => {
  const cases: Array<{ name: string; facts: FleetFacts; expect: Partial<FleetStatus> }> = [
    {
      name: 'an enrolled camera never seen: everything unknown, no fault',
      facts: never,
      expect: {
        enrolled: true,
        release: null,
        battery: null,
        storageMinutesLeft: null,
        faults: [],
        lastSeen: null,
        lastDocking: null,
        pending: null,
        clockOffsetMs: null,
      },
    },
    {
      name: 'a docked camera: release and battery from its hello, pending from its claim, last docking',
      facts: {
        ...never,
        lastSeen: '2026-12-05T19:59:00.000Z',
        docking: { signedAt: '2026-12-05T19:58:00.000Z', rollback: null },
        claim: { atMs: AT - 1000, segments: 3, closings: 1, recording: false },
        hello: { release: '0.9.0', battery: { percent: 81, volts: 3.9 } },
      },
      expect: {
        release: '0.9.0',
        battery: { percent: 81, volts: 3.9 },
        lastDocking: '2026-12-05T19:58:00.000Z',
        pending: { segments: 3, closings: 1, recording: false, reportedAt: '2026-12-05T19:59:59.000Z' },
        faults: [],
      },
    },
    {
      name: 'refused segments and a rollback are faults, after what the camera reported',
      facts: {
        ...never,
        refused: 2,
        docking: { signedAt: '2026-12-05T19:58:00.000Z', rollback: 'chain head 4 is below 9' },
        hello: { release: '0.9.0', faults: ['speaker missing'], storageMinutesLeft: 42, clockOffsetMs: -3100 },
      },
      expect: {
        faults: [
          'speaker missing',
          '2 segment(s) refused by the dock (kept on the camera)',
          'rolled back: chain head 4 is below 9',
        ],
        storageMinutesLeft: 42,
        clockOffsetMs: -3100,
      },
    },
    {
      name: 'a withdrawn camera',
      facts: { ...never, enrolled: false, withdrawn: { at: '2026-12-01T10:00:00.000Z', reason: 'stolen' } },
      expect: { enrolled: false, withdrawn: { at: '2026-12-01T10:00:00.000Z', reason: 'stolen' } },
    },
    {
      name: 'an operator’s reason over two lines: one line, so the centre can still read the record',
      facts: { ...never, enrolled: false, withdrawn: { at: '2026-12-01T10:00:00.000Z', reason: 'lost\non patrol' } },
      expect: { withdrawn: { at: '2026-12-01T10:00:00.000Z', reason: 'lost on patrol' } },
    },
  ];
  it.each(cases)('$name', ({ facts, expect: want }) => {
    const s = buildFleetStatus(facts, AT);
    expect(s).toMatchObject({ format: 'bodycam-fleet-status/1', device: 'cam-1', at: '2026-12-05T20:00:00.000Z' });
    expect(s).toMatchObject(want);
    // What it builds, it reads back unchanged.
    expect(parseFleetStatus(Buffer.from(JSON.stringify(s)))).toEqual({ ok: s });
  });

  it('holds exactly the documented fields: no footage, key, manifest or hash', () => {
    const s = buildFleetStatus(cases[1]?.facts ?? never, AT);
    expect(Object.keys(s).sort()).toEqual(
      [
        'at',
        'battery',
        'clockOffsetMs',
        'device',
        'enrolled',
        'faults',
        'format',
        'lastDocking',
        'lastSeen',
        'pending',
        'release',
        'storageMinutesLeft',
        'withdrawn',
      ].sort(),
    );
  });

  it('two records differing only in when they were built have the same key; any other change differs', () => {
    const a = buildFleetStatus(never, AT);
    expect(fleetStatusKey(buildFleetStatus(never, AT + 60_000))).toBe(fleetStatusKey(a));
    expect(fleetStatusKey(buildFleetStatus({ ...never, refused: 1 }, AT))).not.toBe(fleetStatusKey(a));
  });
});

describe('parseFleetStatus', () => {
  const good = buildFleetStatus(
    { ...never, claim: { atMs: AT, segments: 1, closings: 0, recording: null }, hello: { release: '1.0.0' } },
    AT,
  );
  const bad: Array<[string, unknown, RegExp]> = [
    ['not JSON', 'nope', /not JSON/],
    ['an array', [], /not a JSON object/],
    ['another format', { ...good, format: 'bodycam-fleet-status/2' }, /format must be bodycam-fleet-status\/1/],
    ['a device id with a slash', { ...good, device: 'a/b' }, /device must be a device id/],
    ['enrolled missing', { ...good, enrolled: undefined }, /enrolled must be true or false/],
    ['a bad time', { ...good, at: 'yesterday' }, /at must be an ISO 8601 time/],
    [
      'battery over 100 %',
      { ...good, battery: { percent: 101, volts: 4 } },
      /percent must be null or a number within 0–100/,
    ],
    ['faults not a list', { ...good, faults: 'all' }, /faults must be a list/],
    ['a fault not text', { ...good, faults: [1] }, /faults\[0\] must be a string/],
    // A terminal escape in a fault could hide or rewrite lines of `fleet status` on the fleet manager's screen.
    ['a fault with a terminal escape', { ...good, faults: ['ok\u001b[2K\u001b[1A'] }, /without control characters/],
    ['a release with a newline', { ...good, release: '1.0\nall well' }, /without control characters/],
    ['negative pending', { ...good, pending: { ...good.pending, segments: -1 } }, /segments must be a whole number/],
    [
      'pending recording not boolean',
      { ...good, pending: { ...good.pending, recording: 'yes' } },
      /recording must be null, true or false/,
    ],
    ['a release not text', { ...good, release: 5 }, /release must be null or a string/],
  ];
  it.each(bad)('refuses %s with a clear reason', (_name, doc, reason) => {
    const payload = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
    const r = parseFleetStatus(payload);
    expect('error' in r && r.error).toMatch(reason);
  });

  it('refuses a record over the size limit before parsing it', () => {
    const r = parseFleetStatus(Buffer.alloc(MAX_FLEET_STATUS_BYTES + 1, 0x20));
    expect('error' in r && r.error).toMatch(/at most 16384 bytes/);
  });
});
