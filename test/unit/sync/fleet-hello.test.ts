/**
 * What a camera tells the dock in its hello for the fleet status: release, battery, storage left, the clock offset
 * last measured, current faults (a fault that clears is no longer said), through the real camera sync and dock agent
 * on the in-memory broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Scene, syncScene } from '../../harness/sync-scene.ts';

const scenes: Scene[] = [];
afterEach(async () => {
  for (const s of scenes.splice(0)) await s.stop();
});

describe('the hello carries the fleet status facts', () => {
  it('says storage left, clock offset and faults it knows; nothing it does not', async () => {
    const s = await syncScene();
    scenes.push(s);
    const cam = await s.camera('cam-a', { segments: 1, bytesEach: 100_000 });
    cam.dock(true);
    await s.run(() => s.dock.hellos.length === 1, 'the first hello');
    expect(s.dock.hellos[0]?.hello).toMatchObject({ device: 'cam-a', release: '0.0.0-test' });
    for (const k of ['storageMinutesLeft', 'clockOffsetMs', 'faults', 'battery']) {
      expect(s.dock.hellos[0]?.hello).not.toHaveProperty(k);
    }
    // The dock's time answer gives the camera its clock offset (sync-scene's clocks agree: 0 ms).
    await s.run(() => cam.events.some((e) => e.event === 'clock.offset'), 'the clock offset measured');
    cam.bus.emit('health.storage', { level: 'low', freeBytes: 5e8, reserveBytes: 1e8, minutesLeft: 42.7 });
    cam.bus.emit('health.speaker', { state: 'fault', code: 'ENODEV', message: 'no playback device' });
    cam.bus.emit('health.microphone', { state: 'fault', device: 'hw:1', message: 'capture failed' });
    cam.bus.emit('health.microphone', { state: 'ok', device: 'hw:1', message: '' });
    cam.dock(false);
    cam.dock(true);
    await s.run(() => s.dock.hellos.length === 2, 'the second hello');
    expect(s.dock.hellos[1]?.hello).toMatchObject({
      storageMinutesLeft: 42,
      clockOffsetMs: expect.any(Number),
      faults: ['speaker: no playback device'],
    });
  });
});
