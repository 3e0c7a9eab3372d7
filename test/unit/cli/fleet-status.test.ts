import { describe, expect, it } from 'vitest';
import { collect, fleetLine, parseBrokerUrl } from '../../../src/cli/fleet.ts';
import { orderFleet } from '../../../src/protocol/fleet-attention.ts';
import { buildFleetStatus, type FleetFacts } from '../../../src/protocol/fleet-status.ts';

const NOW = Date.parse('2026-12-05T20:00:00.000Z');
const facts = (device: string, patch: Partial<FleetFacts> = {}): FleetFacts => ({
  device,
  enrolled: true,
  withdrawn: null,
  lastSeen: '2026-12-05T19:30:00.000Z',
  refused: 0,
  docking: { signedAt: '2026-12-05T17:00:00.000Z', rollback: null },
  claim: { atMs: NOW - 30 * 60_000, segments: 2, closings: 1, recording: false },
  hello: { release: '1.2.0', battery: { percent: 64, volts: 3.8 } },
  ...patch,
});
const msg = (topic: string, f: FleetFacts | string) => ({
  topic,
  payload: Buffer.from(typeof f === 'string' ? f : JSON.stringify(buildFleetStatus(f, NOW))),
});

describe('parseBrokerUrl', () => {
  it.each([
    ['mqtts://fleet.example:8884', { host: 'fleet.example', port: 8884 }],
    ['mqtts://127.0.0.1', { host: '127.0.0.1', port: 8883 }],
    ['mqtts://[::1]:9000/', { host: '::1', port: 9000 }],
  ])('reads %s', (url, want) => expect(parseBrokerUrl(url)).toEqual(want));

  it.each(['mqtt://fleet.example:1883', 'fleet.example:8883', 'mqtts://fleet.example:0', 'mqtts://a b'])(
    'refuses %s (TLS only)',
    (url) => expect(() => parseBrokerUrl(url)).toThrow(/mqtts:\/\/HOST:PORT/),
  );
});

describe('collect', () => {
  it('keeps the latest record per camera; an empty one clears it; bad ones are named, not dropped', () => {
    const got = collect([
      msg('sites/a/fleet/v1/cam-1', facts('cam-1', { refused: 1 })),
      msg('sites/a/fleet/v1/cam-1', facts('cam-1')),
      msg('sites/b/fleet/v1/cam-1', facts('cam-1')),
      msg('sites/b/fleet/v1/cam-2', facts('cam-2')),
      { topic: 'sites/b/fleet/v1/cam-2', payload: Buffer.alloc(0) },
      msg('sites/b/fleet/v1/cam-3', '{"format":"bodycam-fleet-status/9"}'),
      msg('sites/b/fleet/v1/cam-4', facts('cam-5')),
      msg('sites/b/other/cam-6', facts('cam-6')),
    ]);
    expect(got.records.map((r) => [r.site, r.status.device, r.status.faults.length])).toEqual([
      ['a', 'cam-1', 0],
      ['b', 'cam-1', 0],
    ]);
    expect(got.invalid).toEqual([
      { topic: 'sites/b/fleet/v1/cam-3', error: 'format must be bodycam-fleet-status/1' },
      { topic: 'sites/b/fleet/v1/cam-4', error: 'names device cam-5' },
    ]);
  });
});

describe('fleetLine', () => {
  it('says what needs attention, then what a fleet manager reads', () => {
    const [bad, ok] = orderFleet(
      [
        { site: 'a', status: buildFleetStatus(facts('cam-1'), NOW) },
        { site: 'b', status: buildFleetStatus(facts('cam-2', { refused: 2, hello: null }), NOW) },
      ],
      NOW,
    );
    expect(fleetLine(bad as never, NOW)).toBe(
      'FAULT  b/cam-2: release ?, battery ?, storage ?, pending 2 segment(s), 1 closing(s) (said 30 min ago), last docking 3 h ago, last seen 30 min ago, clock ?; faults: 2 segment(s) refused by the dock (kept on the camera)',
    );
    expect(fleetLine(ok as never, NOW)).toMatch(/^ok {2}a\/cam-1: release 1\.2\.0, battery 64%, /);
  });
});
