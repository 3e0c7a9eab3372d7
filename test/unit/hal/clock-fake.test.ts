/**
 * The fake clock, the one fake time of the tests: timers fire in due order as time is advanced, intervals repeat,
 * the wall clock moves with the monotonic one unless set, and real file operations under way finish between steps,
 * so a test never waits on the wall clock for a file to land.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/hal/clock/fake.ts';

describe('FakeClock', () => {
  it('fires timers in due order (ties in creation order) and only as far as it is advanced', async () => {
    const clock = new FakeClock({ now: 100 });
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 50);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 50);
    const cleared = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.clearTimeout(cleared);
    await clock.advance(49);
    expect(fired).toEqual(['a@120']);
    expect(clock.now()).toBe(149);
    await clock.advance(1);
    expect(fired).toEqual(['a@120', 'b@150', 'c@150']);
    expect(clock.pending).toBe(0);
  });

  it('repeats intervals until cleared, and fires a timer set by a timer within the same advance', async () => {
    const clock = new FakeClock();
    const ticks: number[] = [];
    const every = clock.setInterval(() => {
      ticks.push(clock.now());
      if (ticks.length === 2) clock.setTimeout(() => ticks.push(-clock.now()), 5);
    }, 100);
    await clock.advance(350);
    expect(ticks).toEqual([100, 200, -205, 300]);
    clock.clearInterval(every);
    await clock.advance(1000);
    expect(ticks).toHaveLength(4);
  });

  it('moves the wall clock with the monotonic one; setting the wall clock leaves the monotonic one alone', async () => {
    const clock = new FakeClock({ now: 0, wallNow: Date.UTC(2026, 0, 1) });
    await clock.advance(1500);
    expect([clock.now(), clock.wallNow()]).toEqual([1500, Date.UTC(2026, 0, 1) + 1500]);
    clock.setWall(Date.UTC(2027, 5, 1));
    await clock.advance(10);
    expect([clock.now(), clock.wallNow()]).toEqual([1510, Date.UTC(2027, 5, 1) + 10]);
  });

  it('lets a chain of real file operations finish between steps', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-fake-clock-'));
    const clock = new FakeClock();
    const file = path.join(dir, 'segment');
    const steps: string[] = [];
    // What a writer does on a timer: write, fsync, close, rename, then set its next timer.
    clock.setTimeout(() => {
      void (async () => {
        await writeFile(`${file}.tmp`, Buffer.alloc(1 << 20, 7));
        const fh = await open(`${file}.tmp`, 'r+');
        await fh.sync();
        await fh.close();
        await rename(`${file}.tmp`, file);
        steps.push(`written@${clock.now()}`);
        clock.setTimeout(() => steps.push(`next@${clock.now()}`), 100);
      })();
    }, 1000);
    await clock.advance(1000);
    expect(steps).toEqual(['written@1000']);
    expect(readFileSync(file)).toHaveLength(1 << 20);
    await clock.advance(100);
    expect(steps).toEqual(['written@1000', 'next@1100']);
  });
});
