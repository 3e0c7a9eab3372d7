/**
 * The storage reserve and the thresholds in recording time (docs/design.md §18) as tables: what the reserve holds
 * for what is on the card, the bitrate the thresholds use, the level for the free space, and the budget the
 * recorder asks at each fragment.
 */
import { describe, expect, it } from 'vitest';
import {
  CONTAINER_OVERHEAD,
  RESERVE_COSTS,
  type ReserveInput,
  recordingRate,
  storageOutlook,
  storageReserve,
} from '../../../../src/camera/health/reserve.ts';
import { StorageBudget } from '../../../../src/camera/health/storage-budget.ts';
import type { SourceConfig } from '../../../../src/config/schema.ts';

const MIB = 1024 * 1024;
const empty: ReserveInput = { blockSize: 4096, segmentsOnCard: 0, incidentsOnCard: 0, walBytesNow: 0 };

describe('storage reserve', () => {
  // Per segment on a 4 KiB-block card: receipt 4 KiB + manifest 4 KiB + 3 audit lines + 2 KiB index = 13 KiB.
  const perSegment = 4096 + 4096 + 3 * 1024 + 2048;
  // Per incident: closing manifest 4 KiB + its receipt 4 KiB + 8 audit lines + 4 KiB index = 20 KiB.
  const perIncident = 4096 + 4096 + 8 * 1024 + 4096;
  const fixed = storageReserve(empty).parts;

  it.each([
    ['an empty card', empty, perSegment, perIncident],
    [
      '1000 segments of 40 incidents',
      { ...empty, segmentsOnCard: 1000, incidentsOnCard: 40 },
      1001 * perSegment,
      41 * perIncident,
    ],
    ['negative counts read as none', { ...empty, segmentsOnCard: -5, incidentsOnCard: -1 }, perSegment, perIncident],
  ])('%s: one of each more than is on the card', (_name, input, segments, incidents) => {
    const r = storageReserve(input);
    expect(r.parts.segments).toBe(segments);
    expect(r.parts.incidents).toBe(incidents);
  });

  it('holds start-ups, dockings, closing the open segment and the WAL beside what the card holds', () => {
    expect(fixed.startups).toBe(16 * 6 * 1024);
    expect(fixed.dockings).toBe(16 * (5 * 1024 + 2 * 1024)); // audit lines and the dock's docking records
    // final 64 KiB age chunk and the tail rewritten beside the old one, in whole blocks
    expect(fixed.closingSegment).toBeGreaterThanOrEqual(2 * (64 * 1024 + 16));
    expect(fixed.closingSegment % 4096).toBe(0);
    expect(fixed.wal).toBe(RESERVE_COSTS.walBytes + RESERVE_COSTS.shmBytes);
  });

  it.each([
    [0, RESERVE_COSTS.walBytes],
    [1_000_000, RESERVE_COSTS.walBytes - 1_000_000],
    [RESERVE_COSTS.walBytes + 5, 0], // a WAL past its checkpoint size needs nothing more
  ])('WAL of %d bytes now: %d more to come', (walBytesNow, more) => {
    expect(storageReserve({ ...empty, walBytesNow }).parts.wal).toBe(more + RESERVE_COSTS.shmBytes);
  });

  it.each([
    [512, 2 * 1024], // small blocks: files near their size
    [4096, 4096],
    [65_536, 65_536], // big blocks: every small file takes one
  ])('rounds small files to whole %d-byte blocks', (blockSize, receipt) => {
    const one = storageReserve({ ...empty, blockSize, segmentsOnCard: 1 }).parts.segments;
    const none = storageReserve({ ...empty, blockSize }).parts.segments;
    expect(one - none).toBe(2 * receipt + 3 * 1024 + 2048);
  });

  it.each([
    ['an empty card: the floor', empty, 8 * MIB],
    ['2000 segments: above the floor, with the margin', { ...empty, segmentsOnCard: 2000, incidentsOnCard: 100 }, null],
  ])('%s', (_name, input, exact) => {
    const r = storageReserve(input);
    const sum = Object.values(r.parts).reduce((n, v) => n + v, 0);
    if (exact !== null) expect(r.bytes).toBe(exact);
    else expect(r.bytes).toBe(Math.ceil(sum * RESERVE_COSTS.safety));
    expect(r.bytes).toBeGreaterThanOrEqual(sum);
  });

  it('grows with every segment on the card and shrinks as the dock takes them', () => {
    const sizes = [0, 100, 1000, 5000].map((n) => storageReserve({ ...empty, segmentsOnCard: n }).bytes);
    expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
    expect(sizes[3]).toBeGreaterThan(sizes[2] ?? 0);
  });
});

describe('recording rate', () => {
  const source = (videoBitrateKbps: number, audio: boolean, gopSeconds = 1): SourceConfig => ({
    kind: 'synthetic',
    width: 320,
    height: 240,
    fps: 15,
    gopSeconds,
    videoBitrateKbps,
    audio,
    speed: 1,
  });
  it.each([
    [2000, true, 1, (2064 * 1000 * (1 + CONTAINER_OVERHEAD)) / 8, Math.ceil((64_000 * 1.03) / 8)],
    [2000, false, 1, (2000 * 1000 * (1 + CONTAINER_OVERHEAD)) / 8, 0],
    [400, true, 2, (464 * 1000 * (1 + CONTAINER_OVERHEAD)) / 8, Math.ceil((64_000 * 1.03 * 2) / 8)],
  ])('%d kbit/s video, audio %s, %d s GOP', (kbps, audio, gop, bytesPerSecond, audioBytesPerGop) => {
    expect(recordingRate(source(kbps, audio, gop))).toEqual({ bytesPerSecond, audioBytesPerGop, gopSeconds: gop });
  });
});

describe('storage outlook in recording time', () => {
  const rate = 250_000; // 2 Mbit/s
  const reserve = 10 * MIB;
  const at = (freeBytes: number, lowMinutes = 30, segmentSeconds = 60) =>
    storageOutlook({ freeBytes, reserveBytes: reserve, bytesPerSecond: rate, segmentSeconds, lowMinutes });
  it.each([
    ['two hours left', reserve + 7200 * rate, 'ok', 120],
    ['exactly 30 minutes: not yet low', reserve + 1800 * rate, 'ok', 30],
    ['a second under 30 minutes: low', reserve + 1799 * rate, 'low', 1799 / 60],
    ['one whole segment left: low', reserve + 60 * rate, 'low', 1],
    ['less than a segment: full', reserve + 59 * rate, 'full', 59 / 60],
    ['at the reserve: full, nothing left', reserve, 'full', 0],
    ['inside the reserve: full, nothing left (never negative)', reserve - 5 * MIB, 'full', 0],
  ])('%s', (_name, free, level, minutes) => {
    const o = at(free);
    expect(o.level).toBe(level);
    expect(o.minutesLeft).toBeCloseTo(minutes, 6);
    expect(o.headroomBytes).toBe(Math.max(0, free - reserve));
  });

  it('lowMinutes 0 never shows low; a 10 s segment shows full later', () => {
    expect(at(reserve + 60 * rate, 0).level).toBe('ok');
    expect(at(reserve + 30 * rate, 30, 10).level).toBe('low');
    expect(at(reserve + 9 * rate, 30, 10).level).toBe('full');
  });
});

describe('storage budget', () => {
  const rate = { bytesPerSecond: 100_000, audioBytesPerGop: 8000, gopSeconds: 1 };
  const setup = (free: number, segmentsOnCard = 0) => {
    const reading = { freeBytes: free, blockSize: 4096 };
    const budget = new StorageBudget({
      dir: '/unused',
      rate,
      segmentSeconds: 60,
      lowMinutes: 30,
      contents: () => ({ segmentsOnCard, incidentsOnCard: 0, walBytesNow: 0 }),
      probe: () => reading,
    });
    budget.refresh();
    return { budget, reading };
  };
  const floor = 8 * MIB;

  it('counts what the recorder queued and wrote since the last reading, and starts afresh at the next', () => {
    const { budget, reading } = setup(floor + 1_000_000);
    expect(budget.headroom()).toBe(1_000_000);
    budget.queued(300_000);
    expect(budget.headroom()).toBe(700_000);
    budget.wrote(300_000); // written: still counted until statfs shows it
    expect(budget.headroom()).toBe(700_000);
    reading.freeBytes -= 300_000;
    budget.refresh();
    expect(budget.headroom()).toBe(700_000);
  });

  it.each([
    // headroom, fragment bytes, fits (fragment + 8000 bytes of audio)
    [100_000, 92_000, true],
    [100_000, 92_001, false],
    [0, 1, false],
  ])('headroom %d, video fragment %d bytes: fits %s', (headroom, bytes, fits) => {
    expect(setup(floor + headroom).budget.fits(bytes)).toBe(fits);
  });

  it.each([
    // one GOP (100 000) and a segment's opening (16 KiB) must fit
    [100_000 + 16 * 1024, true],
    [100_000 + 16 * 1024 - 1, false],
    [-1_000_000, false],
  ])('headroom %d: an activation can record %s', (headroom, can) => {
    expect(setup(floor + headroom).budget.canRecord()).toBe(can);
  });

  it('never refuses on a filesystem it cannot read', () => {
    const budget = new StorageBudget({
      dir: '/unused',
      rate,
      segmentSeconds: 60,
      lowMinutes: 30,
      contents: () => ({ segmentsOnCard: 0, incidentsOnCard: 0, walBytesNow: 0 }),
      probe: () => {
        throw new Error('EIO');
      },
    });
    expect(budget.refresh()).toBe(false);
    expect(budget.canRecord()).toBe(true);
  });

  it('keeps a reserve (the floor) when the index cannot be read', () => {
    const budget = new StorageBudget({
      dir: '/unused',
      rate,
      segmentSeconds: 60,
      lowMinutes: 30,
      contents: () => {
        throw new Error('SQLITE_CORRUPT');
      },
      probe: () => ({ freeBytes: floor + 50_000, blockSize: 4096 }),
    });
    expect(budget.refresh()).toBe(true);
    expect(budget.view()).toMatchObject({ reserveBytes: floor, headroomBytes: 50_000, level: 'full' });
  });

  it('readFree() reads statfs only and keeps the reserve; refresh() sizes it again from the card', () => {
    let segmentsOnCard = 0;
    let probes = 0;
    let queries = 0;
    const budget = new StorageBudget({
      dir: '/unused',
      rate,
      segmentSeconds: 60,
      lowMinutes: 30,
      contents: () => {
        queries += 1;
        return { segmentsOnCard, incidentsOnCard: 0, walBytesNow: 0 };
      },
      probe: () => {
        probes += 1;
        return { freeBytes: 200 * MIB, blockSize: 4096 };
      },
    });
    budget.readFree(); // before any refresh: the reserve of an empty card
    expect(budget.view().reserveBytes).toBe(floor);
    budget.refresh();
    segmentsOnCard = 10_000;
    budget.readFree();
    expect([probes, queries]).toEqual([3, 1]);
    expect(budget.view().reserveBytes).toBe(floor);
    budget.refresh();
    expect(budget.view().reserveBytes).toBeGreaterThan(100 * MIB);
  });

  it('shows minutes left beyond the reserve in its view', () => {
    const { budget } = setup(floor + 45 * 60 * 100_000);
    expect(budget.view()).toMatchObject({ level: 'ok', reserveBytes: floor, minutesLeft: 45 });
    budget.queued(20 * 60 * 100_000);
    expect(budget.view()).toMatchObject({ level: 'low', minutesLeft: 25 });
  });
});
