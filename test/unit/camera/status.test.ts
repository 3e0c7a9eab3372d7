/**
 * The status board's `incident.durableMs`: what the camera may call safe from a power cut is only what a sync or a
 * sealed segment of that same incident made durable, never footage of an earlier incident, never before the first sync.
 */
import { describe, expect, it } from 'vitest';
import type { CameraEvents } from '../../../src/camera/events.ts';
import type { RecorderStatus } from '../../../src/camera/recording/recorder.ts';
import { StatusBoard } from '../../../src/camera/status.ts';
import { EventBus } from '../../../src/lib/event-bus.ts';

function board() {
  const bus = new EventBus<CameraEvents>();
  let recorder: RecorderStatus = { state: 'buffering', incident: null, writeFailures: 0 };
  const status = new StatusBoard({
    bus,
    recorder: () => recorder,
    ring: () => null,
    mediaNowMs: () => 0,
    outputs: () => null,
    sync: () => null,
    storage: () => null,
    microphone: null,
    identity: () => null,
  });
  const open = (id: string) => {
    recorder = {
      state: 'recording',
      incident: { id, trigger: 'button', segments: 1, activationMs: 0 },
      writeFailures: 0,
    };
  };
  return { bus, status, open };
}

describe('StatusBoard incident.durableMs', () => {
  it('is null until the incident has a sync, then follows its syncs and sealed segments', async () => {
    const { bus, status, open } = board();
    await status.start();
    expect(status.snapshot().incident).toBeNull();
    open('A');
    expect(status.snapshot().incident?.durableMs).toBeNull();
    bus.emit('segment.synced', { incidentId: 'A', seq: 0, endMs: 4_000, bytes: 10 });
    expect(status.snapshot().incident?.durableMs).toBe(4_000);
    bus.emit('segment.sealed', {
      incidentId: 'A',
      seq: 0,
      path: 'x',
      bytes: 10,
      sha256: '00',
      firstMs: 0,
      endMs: 10_000,
      frames: 300,
    });
    expect(status.snapshot().incident?.durableMs).toBe(10_000);
  });

  it("never reports an earlier incident's footage as the new one's", async () => {
    const { bus, status, open } = board();
    await status.start();
    open('A');
    bus.emit('segment.synced', { incidentId: 'A', seq: 0, endMs: 4_000, bytes: 10 });
    open('B');
    expect(status.snapshot().incident).toMatchObject({ id: 'B', durableMs: null });
    bus.emit('segment.synced', { incidentId: 'B', seq: 0, endMs: 9_000, bytes: 10 });
    expect(status.snapshot().incident).toMatchObject({ id: 'B', durableMs: 9_000 });
  });

  it('counts the segments of the open incident given up after a failed write, which leave gaps', async () => {
    const { bus, status, open } = board();
    await status.start();
    open('A');
    bus.emit('segment.synced', { incidentId: 'A', seq: 0, endMs: 4_000, bytes: 10 });
    expect(status.snapshot().incident).toMatchObject({ durableMs: 4_000, givenUp: 0 });
    bus.emit('segment.recovered', { incidentId: 'A', seq: 0, path: 'x', state: 'recovered', bytes: 10 });
    bus.emit('segment.synced', { incidentId: 'A', seq: 1, endMs: 9_000, bytes: 10 });
    expect(status.snapshot().incident).toMatchObject({ durableMs: 9_000, givenUp: 1 });
    bus.emit('segment.recovered', { incidentId: 'A', seq: 1, path: 'y', state: 'lost', bytes: 0 });
    expect(status.snapshot().incident).toMatchObject({ givenUp: 2 });
    open('B');
    expect(status.snapshot().incident).toMatchObject({ id: 'B', givenUp: 0 });
  });
});
