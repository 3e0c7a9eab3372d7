/** systemd notify on fake time with a scripted systemd-notify: READY once buffering, pings only while healthy. */
import { describe, expect, it } from 'vitest';
import { createCameraBus } from '../../../../src/camera/events.ts';
import type { MediaFragment } from '../../../../src/camera/media/types.ts';
import { captureHealthy, SystemdNotify } from '../../../../src/camera/service/notify.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { ScriptedProcesses } from '../../../../src/hal/process/scripted.ts';
import { pingEveryMs } from '../../../../src/hal/service/systemd-notify.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';

const fragment = {} as MediaFragment;

async function setup(env: Record<string, string>) {
  const clock = new FakeClock();
  const bus = createCameraBus();
  const processes = new ScriptedProcesses({ clock }).define('systemd-notify', (call) => call.exit(0));
  const notify = new SystemdNotify({
    bus,
    processes,
    clock,
    logger: silentLogger(),
    env,
    healthyWithinMs: 10_000,
    captureState: () => 'starting',
  });
  await notify.start();
  const sent = () => processes.calls.map((c) => c.args.join(' '));
  return { clock, bus, notify, sent };
}

describe('systemd notify', () => {
  it.each([
    [{ WATCHDOG_USEC: '30000000' }, 15_000],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: String(process.pid) }, 15_000],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, null],
    [{}, null],
    [{ WATCHDOG_USEC: 'nonsense' }, null],
  ])('ping interval for %j is %s ms', (env, expected) => {
    expect(pingEveryMs(env, process.pid)).toBe(expected);
  });

  it.each([
    ['running', 0, 5000, true],
    ['running', 0, 10_000, true],
    ['running', 0, 10_001, false],
    ['restarting', 0, 1000, false],
    ['running', null, 0, false],
  ] as const)('capture %s, last fragment %s, now %s → healthy %s', (state, last, now, healthy) => {
    expect(captureHealthy(state, last, now, 10_000)).toBe(healthy);
  });

  it('says READY once buffering, pings while fragments come, stops pinging when they stop, says STOPPING', async () => {
    const { clock, bus, notify, sent } = await setup({
      NOTIFY_SOCKET: '/run/systemd/notify',
      WATCHDOG_USEC: '4000000',
    });
    await clock.advance(5000);
    expect(sent()).toEqual([]); // not buffering yet: neither ready nor vouched for
    bus.emit('capture.state', { state: 'running' });
    for (let t = 0; t < 6000; t += 1000) {
      bus.emit('capture.fragment', fragment);
      await clock.advance(1000);
    }
    expect(sent()[0]).toBe('READY=1 STATUS=buffering');
    expect(sent().filter((s) => s === 'WATCHDOG=1').length).toBe(3);
    // The capture stalls: no more fragments; after the health window no ping vouches for it.
    await clock.advance(30_000);
    const pings = sent().filter((s) => s === 'WATCHDOG=1').length;
    expect(pings).toBeLessThanOrEqual(3 + 5);
    await clock.advance(30_000);
    expect(sent().filter((s) => s === 'WATCHDOG=1').length).toBe(pings);
    bus.emit('capture.state', { state: 'restarting' });
    bus.emit('capture.fragment', fragment);
    await clock.advance(10_000);
    expect(sent().filter((s) => s === 'WATCHDOG=1').length).toBe(pings);
    await notify.stop();
    expect(sent().at(-1)).toBe('STOPPING=1');
  });

  it('does nothing outside systemd', async () => {
    const { clock, bus, notify, sent } = await setup({ WATCHDOG_USEC: '4000000' });
    bus.emit('capture.state', { state: 'running' });
    await clock.advance(10_000);
    await notify.stop();
    expect(sent()).toEqual([]);
  });
});
