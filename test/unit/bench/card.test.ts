/**
 * What the card sees (scripts/bench/compare/card.ts) and the comparison's goals (scripts/bench/goals.ts): the kernel's I/O
 * counters read, standby writes scaled to an hour, write amplification with the closing phase, and the goal lines
 * that make the bench fail.
 */
import { describe, expect, it } from 'vitest';
import { amplification, cardFigures, type Phase, parseIo, perHour } from '../../../scripts/bench/compare/card.ts';
import { bytes } from '../../../scripts/bench/compare/summary.ts';
import { GOALS, missedGoals, reportGoals } from '../../../scripts/bench/goals.ts';

describe('the kernel counters', () => {
  it('reads /proc/PID/io', () => {
    const text =
      'rchar: 6976\nwchar: 1200\nsyscr: 10\nsyscw: 3\nread_bytes: 0\nwrite_bytes: 8192\ncancelled_write_bytes: 4096\n';
    expect(parseIo(text)).toEqual({ writeBytes: 8192, cancelledWriteBytes: 4096, wchar: 1200 });
  });

  it('refuses a text without write_bytes (a kernel without task I/O accounting)', () => {
    expect(() => parseIo('rchar: 1\nwchar: 2\n')).toThrow(/write_bytes/);
  });
});

describe('scaling and amplification', () => {
  it.each([
    { bytes: 0, seconds: 33, want: 0 },
    { bytes: 1_000_000, seconds: 1, want: 3_600_000_000 },
    { bytes: 35_000_000, seconds: 33.2, want: (35_000_000 / 33.2) * 3600 },
    { bytes: 4096, seconds: 0, want: null },
  ])('$bytes B in $seconds s → $want B per hour', ({ bytes: b, seconds, want }) => {
    const got = perHour(b, seconds);
    if (want === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(want, 3);
  });

  it.each([
    { written: 1_020_000, footage: 1_000_000, want: 1.02 },
    { written: 500, footage: 1000, want: 0.5 },
    { written: 4096, footage: 0, want: null },
  ])('$written B written for $footage B kept → $want', ({ written, footage, want }) => {
    expect(amplification(written, footage)).toBe(want);
  });
});

describe('card figures from phases', () => {
  const fps = 30;
  const phase = (kind: Phase['kind'], seconds: number, writeBytes: number): Phase => ({
    kind,
    frames: seconds * fps,
    writeBytes,
  });

  it('a recorder silent in standby: everything after an activation counts for the recording', () => {
    const f = cardFigures(
      {
        phases: [phase('standby', 30, 0), phase('recording', 6, 1_010_000), phase('closing', 12, 10_000)],
        footageBytes: 1_000_000,
      },
      fps,
    );
    expect(f).toEqual({
      standbySeconds: 30,
      standbyBytes: 0,
      standbyBytesPerHour: 0,
      recordingBytes: 1_020_000,
      footageBytes: 1_000_000,
      writeAmplification: 1.02,
    });
  });

  it("a loop recorder: its ring writes while a recording closes are its standby's, not the recording's", () => {
    const f = cardFigures(
      {
        phases: [
          phase('standby', 20, 20_000_000),
          phase('recording', 5, 40_000_000),
          phase('closing', 10, 10_500_000),
          phase('standby', 20, 20_000_000),
        ],
        footageBytes: 35_000_000,
      },
      fps,
    );
    expect(f.standbySeconds).toBe(40);
    expect(f.standbyBytesPerHour).toBe(3_600_000_000);
    expect(f.recordingBytes).toBe(40_500_000);
    expect(f.writeAmplification).toBeCloseTo(40.5 / 35, 9);
  });

  it('a closing phase writing less than the standby rate adds nothing', () => {
    const f = cardFigures(
      {
        phases: [phase('standby', 10, 10_000_000), phase('recording', 5, 6_000_000), phase('closing', 10, 0)],
        footageBytes: 6_000_000,
      },
      fps,
    );
    expect(f.writeAmplification).toBe(1);
  });

  it('no standby measured and nothing kept: no figures', () => {
    const f = cardFigures({ phases: [phase('recording', 5, 4096)], footageBytes: 0 }, fps);
    expect(f.standbyBytesPerHour).toBeNull();
    expect(f.writeAmplification).toBeNull();
    expect(f.recordingBytes).toBe(4096);
  });
});

describe('goals', () => {
  const goal = { what: 'w', atMost: 1.02, unit: '×', digits: 3, enforced: true };
  const lines = (actual: number | null) => missedGoals([{ ...goal, actual }]).map((m) => m.line);
  it.each([
    { actual: 1.0, want: [] },
    { actual: 1.02, want: [] },
    { actual: 1.025, want: ['goal missed: w is 1.025×, goal ≤ 1.020× (over by 0.005×)'] },
    { actual: null, want: ['goal missed: w was not measured (goal ≤ 1.020×)'] },
    { actual: Number.NaN, want: ['goal missed: w was not measured (goal ≤ 1.020×)'] },
  ])('$actual against ≤ 1.02', ({ actual, want }) => {
    expect(lines(actual)).toEqual(want);
  });

  it('a goal not enforced is reported as such and does not fail the bench', () => {
    expect(missedGoals([{ ...goal, actual: 1.5, enforced: false }])).toEqual([
      { line: 'goal missed (reported, not enforced): w is 1.500×, goal ≤ 1.020× (over by 0.480×)', enforced: false },
    ]);
    expect(missedGoals([{ ...goal, actual: 1.5 }])[0]?.enforced).toBe(true);
  });

  it('standby must be zero: one page is a miss', () => {
    const standby = { what: 'standby', atMost: 0, unit: ' B', digits: 0, enforced: true };
    expect(missedGoals([{ ...standby, actual: 0 }])).toEqual([]);
    expect(missedGoals([{ ...standby, actual: 4096 }]).map((m) => m.line)).toEqual([
      'goal missed: standby is 4096 B, goal ≤ 0 B (over by 4096 B)',
    ]);
  });

  it('a lower bound: short of it is a miss, by how much', () => {
    const sync = { what: 'sync / bare', atLeast: GOALS.syncVsBare, unit: '×', digits: 2, enforced: true };
    expect(missedGoals([{ ...sync, actual: 0.9 }])).toEqual([]);
    expect(missedGoals([{ ...sync, actual: 1.4 }])).toEqual([]);
    expect(missedGoals([{ ...sync, actual: 0.79 }]).map((m) => m.line)).toEqual([
      'goal missed: sync / bare is 0.79×, goal ≥ 0.90× (short by 0.11×)',
    ]);
  });

  it('a report sets a non-zero exit status only for an enforced miss, and names the bench', () => {
    const before = process.exitCode;
    const err: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const out = process.stdout.write.bind(process.stdout);
    process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      process.exitCode = 0;
      reportGoals('b', [{ ...goal, actual: 1.5, enforced: false }]);
      expect(process.exitCode).toBe(0);
      reportGoals('b', [{ ...goal, actual: 1.0 }]);
      expect(process.exitCode).toBe(0);
      reportGoals('b', [{ ...goal, actual: 1.5 }]);
      expect(process.exitCode).toBe(1);
    } finally {
      process.stderr.write = write;
      process.stdout.write = out;
      process.exitCode = before;
    }
    expect(err).toEqual([
      'b: goal missed (reported, not enforced): w is 1.500×, goal ≤ 1.020× (over by 0.480×)\n',
      'b: goal missed: w is 1.500×, goal ≤ 1.020× (over by 0.480×)\n',
    ]);
  });
});

describe('byte counts in the table', () => {
  it.each([
    { v: 0, want: '0 B' },
    { v: 999, want: '999 B' },
    { v: 4096, want: '4.10 kB' },
    { v: 3_820_000_000, want: '3.82 GB' },
    { v: 25_200_000, want: '25.2 MB' },
    { v: null, want: 'n/a' },
  ])('$v → $want', ({ v, want }) => {
    expect(bytes(v)).toBe(want);
  });
});
