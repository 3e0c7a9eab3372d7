import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expired, PartialExpiry } from '../../../src/dock/sync/partials.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { silentLogger } from '../../../src/lib/logger.ts';

const HOUR = 3_600_000;

describe('expired partial transfers', () => {
  it.each([
    [0, false],
    [HOUR, false],
    [HOUR + 1, true],
    [-HOUR, false],
  ])('modified %d ms before now, with a one-hour limit: expired %s', (age, gone) => {
    expect(expired(1_000_000 - age, 1_000_000, HOUR)).toBe(gone);
  });

  it('are deleted at start and then as they age, on the clock; files in use and other files stay', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-partials-'));
    const clock = new FakeClock({ wallNow: Date.now() });
    const file = (device: string, name: string, ageMs: number) => {
      mkdirSync(path.join(dir, device), { recursive: true });
      const f = path.join(dir, device, name);
      writeFileSync(f, 'x');
      const t = (clock.wallNow() - ageMs) / 1000;
      utimesSync(f, t, t);
      return f;
    };
    const old = file('cam-a', 'i1-0000.mp4.age.part', 5 * HOUR);
    const inUse = file('cam-a', 'i1-0001.mp4.age.part', 5 * HOUR);
    file('cam-a', 'notes.txt', 5 * HOUR);
    file('cam-b', 'i2-0000.mp4.age.part', 3 * HOUR + 60_000);
    const expiry = new PartialExpiry({
      dir,
      maxAgeMs: 4 * HOUR,
      clock,
      logger: silentLogger(),
      inUse: () => new Set([inUse]),
    });
    await expiry.start();
    expect(readdirSync(path.join(dir, 'cam-a')).sort()).toEqual(['i1-0001.mp4.age.part', 'notes.txt']);
    expect(readdirSync(path.join(dir, 'cam-b'))).toEqual(['i2-0000.mp4.age.part']);
    expect(old).not.toBe(inUse);

    // An hour later cam-b's is over four hours old: the next sweep (every hour at most) takes it.
    await clock.advance(HOUR);
    await expiry.sweep(); // the timer's sweep may still be running: wait for it
    expect(readdirSync(path.join(dir, 'cam-b'))).toEqual([]);
    await expiry.stop();
    expect(clock.pending).toBe(0);
  });
});
