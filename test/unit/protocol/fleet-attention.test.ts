import { describe, expect, it } from 'vitest';
import { ATTENTION, attentionOf, orderFleet } from '../../../src/protocol/fleet-attention.ts';
import { buildFleetStatus, type FleetFacts, type FleetStatus } from '../../../src/protocol/fleet-status.ts';

const NOW = Date.parse('2026-12-05T20:00:00.000Z');
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

const fine: FleetFacts = {
  device: 'cam-1',
  enrolled: true,
  withdrawn: null,
  lastSeen: iso(60_000),
  refused: 0,
  docking: { signedAt: iso(60_000), rollback: null },
  claim: { atMs: NOW - 60_000, segments: 0, closings: 0, recording: false },
  hello: { release: '1.0.0', storageMinutesLeft: 300, clockOffsetMs: 20 },
};
const status = (patch: Partial<FleetFacts>, device = 'cam-1'): FleetStatus =>
  buildFleetStatus({ ...fine, ...patch, device }, NOW);

describe('attentionOf', () => {
  const cases: Array<[string, Partial<FleetFacts>, string[]]> = [
    ['a docked camera with nothing pending', {}, []],
    ['a refused segment is a fault', { refused: 1 }, ['fault']],
    ['withdrawn', { enrolled: false, withdrawn: { at: iso(1000), reason: 'lost' } }, ['withdrawn']],
    [
      'evidence pending for a day',
      { claim: { atMs: NOW - ATTENTION.pendingMs, segments: 1, closings: 0, recording: false } },
      ['evidence pending offload'],
    ],
    [
      'evidence pending for less than a day',
      { claim: { atMs: NOW - ATTENTION.pendingMs + 1, segments: 4, closings: 0, recording: false } },
      [],
    ],
    [
      'only a closing manifest pending, long',
      { claim: { atMs: NOW - 2 * ATTENTION.pendingMs, segments: 0, closings: 1, recording: false } },
      ['evidence pending offload'],
    ],
    ['storage under an hour', { hello: { release: '1', storageMinutesLeft: 59 } }, ['storage low']],
    ['storage of exactly an hour', { hello: { release: '1', storageMinutesLeft: 60 } }, []],
    ['clock 2.5 s behind', { hello: { release: '1', clockOffsetMs: -2500 } }, ['clock offset']],
    ['clock 2 s ahead', { hello: { release: '1', clockOffsetMs: 2000 } }, []],
    ['not seen for a week', { lastSeen: iso(ATTENTION.unseenMs) }, ['not seen']],
    ['never seen', { lastSeen: null, docking: null, claim: null, hello: null }, ['never seen']],
    [
      'several at once, most urgent first',
      { refused: 2, lastSeen: iso(ATTENTION.unseenMs * 2), hello: { release: '1', storageMinutesLeft: 5 } },
      ['fault', 'storage low', 'not seen'],
    ],
  ];
  it.each(cases)('%s', (_name, patch, reasons) => {
    expect(attentionOf(status(patch), NOW)).toEqual(reasons);
  });
});

describe('orderFleet', () => {
  it('puts what needs attention first, by its most urgent reason, then site and device', () => {
    const rows = orderFleet(
      [
        { site: 'b', status: status({}, 'cam-ok-b') },
        { site: 'a', status: status({}, 'cam-ok-a') },
        { site: 'b', status: status({ lastSeen: null, docking: null, claim: null, hello: null }, 'cam-new') },
        { site: 'b', status: status({ hello: { release: '1', storageMinutesLeft: 3 } }, 'cam-full') },
        { site: 'a', status: status({ enrolled: false, withdrawn: { at: iso(5), reason: 'x' } }, 'cam-gone') },
        { site: 'b', status: status({ refused: 1, lastSeen: null }, 'cam-bad') },
        { site: 'a', status: status({ refused: 1 }, 'cam-bad') },
      ],
      NOW,
    );
    expect(rows.map((r) => `${r.site}/${r.status.device}`)).toEqual([
      'a/cam-bad',
      'b/cam-bad',
      'a/cam-gone',
      'b/cam-full',
      'b/cam-new',
      'a/cam-ok-a',
      'b/cam-ok-b',
    ]);
    expect(rows[1]?.attention).toEqual(['fault', 'never seen']);
  });
});
