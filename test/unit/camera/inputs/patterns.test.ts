/** Press patterns as a table of debounced edges and the patterns they make, on the fake clock. */
import { describe, expect, it } from 'vitest';
import { Debouncer } from '../../../../src/camera/inputs/debounce.ts';
import {
  type EdgeKind,
  isWantedEdge,
  type Pattern,
  type PatternConfig,
  PressPatternDetector,
} from '../../../../src/camera/inputs/patterns.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { isBodycamError } from '../../../../src/lib/errors.ts';

type Edge = [atMs: number, active: boolean];
type Fired = [pattern: Pattern, atMs: number];

const press = (at: number, ms: number): Edge[] => [
  [at, true],
  [at + ms, false],
];

/** Feed debounced edges at their times on the fake clock; collect events until `untilMs`. */
async function run(edges: Edge[], config: Partial<PatternConfig> = {}, untilMs = 10_000): Promise<Fired[]> {
  const clock = new FakeClock();
  const fired: Fired[] = [];
  const d = new PressPatternDetector({ config, clock, onPattern: (e) => fired.push([e.pattern, e.atMs]) });
  for (const [at, active] of edges) clock.setTimeout(() => d.edge(active), at);
  await clock.advance(untilMs);
  return fired;
}

describe('PressPatternDetector (defaults: window 600, maxPress 800, hold 3000)', () => {
  const cases: { name: string; edges: Edge[]; config?: Partial<PatternConfig>; until?: number; want: Fired[] }[] = [
    { name: 'lone press fires single once the window expired', edges: press(0, 120), want: [['single', 720]] },
    {
      name: 'double press fires on the second release',
      edges: [...press(0, 120), ...press(270, 120)],
      want: [['double', 390]],
    },
    {
      name: 'second press after the window: two singles',
      edges: [...press(0, 120), ...press(800, 120)],
      want: [
        ['single', 720],
        ['single', 1520],
      ],
    },
    { name: 'hold fires at holdMs, release emits nothing', edges: press(0, 4000), want: [['hold', 3000]] },
    { name: 'hold fires while still held', edges: [[0, true]], until: 3500, want: [['hold', 3000]] },
    { name: 'long press short of a hold is nothing', edges: press(0, 1500), want: [] },
    { name: 'press of 799 ms is still a press', edges: press(0, 799), want: [['single', 1399]] },
    { name: 'press of 801 ms is not a press', edges: press(0, 801), want: [] },
    {
      name: 'press then hold: the press is single once the second stops being a press',
      edges: [...press(0, 100), ...press(300, 4700)],
      want: [
        ['single', 1100],
        ['hold', 3300],
      ],
    },
    {
      name: 'press then a too-long second press: single only',
      edges: [...press(0, 100), ...press(300, 900)],
      want: [['single', 1100]],
    },
    {
      name: 'triple press: double at once, the third press starts a new sequence',
      edges: [...press(0, 100), ...press(250, 100), ...press(500, 100)],
      want: [
        ['double', 350],
        ['single', 1200],
      ],
    },
    {
      name: 'quadruple press: two doubles',
      edges: [...press(0, 100), ...press(250, 100), ...press(500, 100), ...press(750, 100)],
      want: [
        ['double', 350],
        ['double', 850],
      ],
    },
    { name: 'release without a press (held at start-up) is ignored', edges: [[0, false]], want: [] },
    {
      name: 'shorter window splits a slow double',
      edges: [...press(0, 100), ...press(450, 100)],
      config: { multiPressWindowMs: 300 },
      want: [
        ['single', 400],
        ['single', 850],
      ],
    },
    {
      name: 'shorter hold',
      edges: press(0, 2000),
      config: { holdMs: 1000 },
      want: [['hold', 1000]],
    },
  ];

  it.each(cases)('$name', async ({ edges, config, until, want }) => {
    expect(await run(edges, config, until)).toEqual(want);
  });

  it('flags the configured start pattern', async () => {
    const clock = new FakeClock();
    const events: { pattern: Pattern; start: boolean }[] = [];
    const d = new PressPatternDetector({
      config: { startPattern: 'hold' },
      clock,
      onPattern: ({ pattern, start }) => events.push({ pattern, start }),
    });
    d.edge(true);
    await clock.advance(100);
    d.edge(false);
    await clock.advance(1000);
    d.edge(true);
    await clock.advance(3000);
    expect(events).toEqual([
      { pattern: 'single', start: false },
      { pattern: 'hold', start: true },
    ]);
  });

  it('reset forgets a pending single', async () => {
    const clock = new FakeClock();
    const fired: Pattern[] = [];
    const d = new PressPatternDetector({ clock, onPattern: (e) => fired.push(e.pattern) });
    d.edge(true);
    d.edge(false);
    d.reset();
    expect(clock.pending).toBe(0);
    await clock.advance(5000);
    expect(fired).toEqual([]);
  });

  it.each([{ holdMs: 800 }, { maxPressMs: 0 }, { multiPressWindowMs: Number.NaN }])(
    'rejects %o as CONFIG_INVALID',
    (config) => {
      expect(() => new PressPatternDetector({ config, clock: new FakeClock(), onPattern: () => {} })).toThrow(
        expect.toSatisfy((e) => isBodycamError(e, 'CONFIG_INVALID')),
      );
    },
  );

  it('behind the debouncer, a bouncy double press is one double', async () => {
    const clock = new FakeClock();
    const fired: Fired[] = [];
    const d = new PressPatternDetector({ clock, onPattern: (e) => fired.push([e.pattern, e.atMs]) });
    const deb = new Debouncer({ clock, onStable: (active, at) => d.edge(active, at) });
    const raw: Edge[] = [
      [0, true],
      [3, false],
      [6, true],
      [120, false],
      [124, true],
      [127, false],
      [270, true],
      [390, false],
    ];
    for (const [at, active] of raw) clock.setTimeout(() => deb.input(active), at);
    await clock.advance(3000);
    expect(fired).toEqual([['double', 390]]);
  });
});

describe('isWantedEdge (trigger lines: levels are logical, rising = became active)', () => {
  const cases: { edge: EdgeKind; active: boolean; want: boolean }[] = [
    { edge: 'rising', active: true, want: true },
    { edge: 'rising', active: false, want: false },
    { edge: 'falling', active: true, want: false },
    { edge: 'falling', active: false, want: true },
    { edge: 'both', active: true, want: true },
    { edge: 'both', active: false, want: true },
  ];
  it.each(cases)('$edge, became active $active → $want', ({ edge, active, want }) => {
    expect(isWantedEdge(edge, active)).toBe(want);
  });
});
