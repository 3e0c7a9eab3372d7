/**
 * "Safe to undock" as a table: the camera's `status` and the dock's status both read this one decision, so it is
 * "safe" only when the camera is docked, records nothing, and every segment, closing manifest (owed ones too),
 * manifest and audit line it holds is acknowledged by the dock's signature.
 */
import { describe, expect, it } from 'vitest';
import { type HandOverState, undockReadiness } from '../../../src/protocol/undock.ts';

const settled: HandOverState = {
  connected: true,
  recording: false,
  segmentsWaiting: 0,
  closingsWaiting: 0,
  incidentsOpen: 0,
  chain: { own: 7, atDock: 7 },
  audit: { own: 40, atDock: 40 },
};

const cases: Array<[string, Partial<HandOverState>, { safe: boolean; items: number; text: string }]> = [
  ['all at the dock', {}, { safe: true, items: 0, text: 'safe to undock' }],
  [
    'a fresh camera with nothing at all',
    { chain: { own: -1, atDock: null }, audit: { own: -1, atDock: null } },
    { safe: true, items: 0, text: 'safe to undock' },
  ],
  ['recording, all else held', { recording: true }, { safe: false, items: 0, text: 'not yet: recording in progress' }],
  [
    'recording with a segment waiting',
    { recording: true, segmentsWaiting: 1, chain: { own: 8, atDock: 7 } },
    { safe: false, items: 1, text: 'not yet: recording in progress' },
  ],
  [
    'one segment without a receipt (its manifest counted once)',
    { segmentsWaiting: 1, chain: { own: 8, atDock: 7 } },
    { safe: false, items: 1, text: 'not yet: 1 item to hand over' },
  ],
  [
    'a closing manifest without a receipt',
    { closingsWaiting: 1, chain: { own: 8, atDock: 7 } },
    { safe: false, items: 1, text: 'not yet: 1 item to hand over' },
  ],
  [
    'an incident stopped but not yet closed owes its closing',
    { incidentsOpen: 1 },
    { safe: false, items: 1, text: 'not yet: 1 item to hand over' },
  ],
  [
    'two audit lines past the signed head',
    { audit: { own: 42, atDock: 40 } },
    { safe: false, items: 2, text: 'not yet: 2 items to hand over' },
  ],
  [
    'no docking record yet: the whole audit log',
    { audit: { own: 2, atDock: null } },
    { safe: false, items: 3, text: 'not yet: 3 items to hand over' },
  ],
  [
    'receipts in, but the chain head not yet signed for',
    { chain: { own: 9, atDock: 7 } },
    { safe: false, items: 2, text: 'not yet: 2 items to hand over' },
  ],
  [
    'everything at once',
    {
      segmentsWaiting: 2,
      closingsWaiting: 1,
      incidentsOpen: 0,
      chain: { own: 10, atDock: 7 },
      audit: { own: 45, atDock: 40 },
    },
    { safe: false, items: 8, text: 'not yet: 8 items to hand over' },
  ],
  [
    'a dock head ahead of the camera (a reset card) counts nothing negative',
    { chain: { own: 3, atDock: 7 }, audit: { own: 10, atDock: 40 } },
    { safe: true, items: 0, text: 'safe to undock' },
  ],
  ['not docked, all held', { connected: false }, { safe: false, items: 0, text: 'not docked' }],
  [
    'not docked, something to hand over',
    { connected: false, segmentsWaiting: 3, chain: { own: 10, atDock: 7 } },
    { safe: false, items: 3, text: 'not docked: 3 items to hand over' },
  ],
];

describe('undockReadiness', () => {
  it.each(cases)('%s', (_name, change, want) => {
    const r = undockReadiness({ ...settled, ...change });
    expect({ safe: r.safe, items: r.items, text: r.text }).toEqual(want);
  });
});
