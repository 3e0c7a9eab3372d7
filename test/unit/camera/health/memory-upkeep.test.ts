/**
 * The memory upkeep on fake time: one garbage collection a settling time after a recording stops, one for several
 * stops meanwhile, none while nothing stops and none once stopped.
 */
import { describe, expect, it } from 'vitest';
import { createCameraBus } from '../../../../src/camera/events.ts';
import { MemoryUpkeep, SETTLE_MS } from '../../../../src/camera/health/memory-upkeep.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';

function setup() {
  const bus = createCameraBus();
  const clock = new FakeClock();
  let collections = 0;
  const upkeep = new MemoryUpkeep({ bus, clock, collect: () => (collections += 1) });
  const close = (id: string) => bus.emit('incident.closed', { id, reason: 'button', stopAtMs: 1000 });
  return { clock, upkeep, close, collections: () => collections };
}

describe('the memory upkeep', () => {
  it('collects once, a settling time after a recording stops, and not before', async () => {
    const s = setup();
    await s.upkeep.start();
    await s.clock.advance(60_000);
    expect(s.collections()).toBe(0);
    s.close('inc-1');
    await s.clock.advance(SETTLE_MS - 1);
    expect(s.collections()).toBe(0);
    await s.clock.advance(1);
    expect(s.collections()).toBe(1);
    await s.clock.advance(60_000);
    expect(s.collections()).toBe(1);
  });

  it('takes stops close together as one, and collects again for a later one', async () => {
    const s = setup();
    await s.upkeep.start();
    s.close('inc-1');
    await s.clock.advance(500);
    s.close('inc-2');
    await s.clock.advance(SETTLE_MS);
    expect(s.collections()).toBe(1);
    s.close('inc-3');
    await s.clock.advance(SETTLE_MS);
    expect(s.collections()).toBe(2);
  });

  it('once stopped, collects nothing, not even for a stop it had seen', async () => {
    const s = setup();
    await s.upkeep.start();
    s.close('inc-1');
    await s.upkeep.stop();
    s.close('inc-2');
    await s.clock.advance(10 * SETTLE_MS);
    expect(s.collections()).toBe(0);
  });
});
