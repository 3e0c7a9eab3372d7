import { describe, expect, it } from 'vitest';
import {
  FailureRuns,
  type RecorderInput,
  type RecorderState,
  shouldRotate,
  type Transition,
  transition,
} from '../../../../src/camera/recording/state.ts';

describe('recorder transitions', () => {
  const cases: Array<[RecorderState, RecorderInput, Transition]> = [
    ['buffering', { type: 'activate' }, { next: 'recording', action: 'openIncident' }],
    ['recording', { type: 'activate' }, { next: 'recording', action: 'ignore' }],
    ['stopping', { type: 'activate' }, { next: 'recording', action: 'ignore' }],
    ['buffering', { type: 'stop' }, { next: 'buffering', action: 'ignore' }],
    ['recording', { type: 'stop' }, { next: 'stopping', action: 'armStop' }],
    ['stopping', { type: 'stop' }, { next: 'stopping', action: 'ignore' }],
    ['buffering', { type: 'videoFragment', startMs: 5000, stopAtMs: null }, { next: 'buffering', action: 'drop' }],
    ['recording', { type: 'videoFragment', startMs: 5000, stopAtMs: null }, { next: 'recording', action: 'write' }],
    // the fragment holding the stop point is still written …
    ['stopping', { type: 'videoFragment', startMs: 5000, stopAtMs: 5500 }, { next: 'stopping', action: 'write' }],
    // … the first one starting at or after it closes the incident
    [
      'stopping',
      { type: 'videoFragment', startMs: 5500, stopAtMs: 5500 },
      { next: 'buffering', action: 'closeIncident' },
    ],
    [
      'stopping',
      { type: 'videoFragment', startMs: 6000, stopAtMs: 5500 },
      { next: 'buffering', action: 'closeIncident' },
    ],
    ['stopping', { type: 'stopTimeout' }, { next: 'buffering', action: 'closeIncident' }],
    ['recording', { type: 'stopTimeout' }, { next: 'recording', action: 'ignore' }],
    ['buffering', { type: 'stopTimeout' }, { next: 'buffering', action: 'ignore' }],
    // storage (docs/design.md §18): no GOP fits before the reserve → refused, nothing opened …
    ['buffering', { type: 'activate', canStore: false }, { next: 'buffering', action: 'refuse' }],
    ['buffering', { type: 'activate', canStore: true }, { next: 'recording', action: 'openIncident' }],
    // … a recording goes on regardless (the fragment check stops it), and a stop is still cancelled
    ['recording', { type: 'activate', canStore: false }, { next: 'recording', action: 'ignore' }],
    ['stopping', { type: 'activate', canStore: false }, { next: 'recording', action: 'ignore' }],
    // a fragment that would reach the reserve closes the incident before it
    [
      'recording',
      { type: 'videoFragment', startMs: 5000, stopAtMs: null, fits: false },
      { next: 'buffering', action: 'closeStorageFull' },
    ],
    [
      'stopping',
      { type: 'videoFragment', startMs: 5000, stopAtMs: 5500, fits: false },
      { next: 'buffering', action: 'closeStorageFull' },
    ],
    // past the officer's stop point the stop is the officer's, full or not
    [
      'stopping',
      { type: 'videoFragment', startMs: 5500, stopAtMs: 5500, fits: false },
      { next: 'buffering', action: 'closeIncident' },
    ],
    [
      'recording',
      { type: 'videoFragment', startMs: 5000, stopAtMs: null, fits: true },
      { next: 'recording', action: 'write' },
    ],
    [
      'buffering',
      { type: 'videoFragment', startMs: 5000, stopAtMs: null, fits: false },
      { next: 'buffering', action: 'drop' },
    ],
  ];
  it.each(cases)('%s + %j → %j', (state, input, expected) => {
    expect(transition(state, input)).toEqual(expected);
  });
});

describe('segment rotation', () => {
  it.each([
    [0, 59_000, true, 60_000, false],
    [0, 60_000, true, 60_000, true],
    [0, 61_000, false, 60_000, false], // never mid-GOP
    [1_000, 61_000, true, 60_000, true],
    [1_000, 60_999, true, 60_000, false],
    [0, 59_999.9999, true, 60_000, true], // tick rounding
    [0, 59_999, true, 60_000, false],
  ])('first %d, fragment %d, keyframe %s, length %d → %s', (first, start, key, len, expected) => {
    expect(shouldRotate(first, start, key, len)).toBe(expected);
  });
});

describe('write failure runs', () => {
  it('reports the first of a run and every 30th, and starts a new run when the code changes', () => {
    const runs = new FailureRuns();
    const seen = [
      ...Array.from({ length: 31 }, () => runs.add('STORAGE_FULL')),
      runs.add('STORAGE_IO'),
      runs.add('STORAGE_FULL'),
    ];
    expect(seen.map((s, i) => [i, s.run, s.report]).filter(([, , r]) => r)).toEqual([
      [0, 1, true],
      [30, 31, true],
      [31, 1, true],
      [32, 1, true],
    ]);
    expect(runs.total).toBe(33);
  });
});
