/**
 * The silent line through the real input chain (sim GPIO → debounce → press patterns) on fake time: a press asks
 * for a silent activation with the configured reason, a 3 s hold asks for stealth; the stealth policy toggles it
 * where allowed and refuses it where not.
 */
import { describe, expect, it } from 'vitest';
import { type CameraEvents, createCameraBus } from '../../../../src/camera/events.ts';
import { StealthPolicy } from '../../../../src/camera/feedback/stealth.ts';
import { OfficerInputs } from '../../../../src/camera/inputs/officer-inputs.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { SimGpio } from '../../../../src/hal/gpio/sim.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';

async function setup(allowed: boolean) {
  const clock = new FakeClock();
  const bus = createCameraBus();
  const gpio = new SimGpio({ clock });
  const seen: string[] = [];
  const record = <K extends keyof CameraEvents>(name: K) =>
    bus.on(name, (e) => seen.push(`${String(name)} ${JSON.stringify(e)}`));
  record('command.start');
  record('command.stealth');
  record('stealth.changed');
  record('stealth.refused');
  const inputs = new OfficerInputs({
    bus,
    gpio,
    lines: { record: { pin: 5, activeLow: true, pull: 'up' }, silent: { pin: 16, activeLow: true, pull: 'up' } },
    roles: {
      recordInput: 'record',
      startPattern: 'double',
      multiPressWindowMs: 600,
      stopHoldMs: 3000,
      triggerInputs: [],
      triggerEdge: 'rising',
      dockInput: 'dock',
      silentInput: 'silent',
      silentReason: 'crowd',
      stealthHoldMs: 3000,
    },
    debounceMs: 30,
    clock,
  });
  await inputs.start();
  await new StealthPolicy({ bus, allowed, reason: 'covert', logger: silentLogger() }).start();
  const press = async (holdMs?: number) => {
    const done = gpio.press('silent', holdMs === undefined ? {} : { holdMs });
    await clock.advance((holdMs ?? 120) + 1000);
    await done;
  };
  return { seen, press };
}

describe('the silent line', () => {
  it('a press starts a silent activation with the configured reason', async () => {
    const { seen, press } = await setup(true);
    await press();
    expect(seen).toEqual(['command.start {"trigger":"line:silent","silent":"crowd"}']);
  });

  it('a 3 s hold toggles stealth where policy allows it, with its reason', async () => {
    const { seen, press } = await setup(true);
    await press(3500);
    await press(3500);
    expect(seen).toEqual([
      'command.stealth {"from":"line:silent"}',
      'stealth.changed {"on":true,"reason":"covert"}',
      'command.stealth {"from":"line:silent"}',
      'stealth.changed {"on":false,"reason":"covert"}',
    ]);
  });

  it('a hold where stealth is not allowed is refused and nothing changes', async () => {
    const { seen, press } = await setup(false);
    await press(3500);
    expect(seen).toEqual(['command.stealth {"from":"line:silent"}', 'stealth.refused {"from":"line:silent"}']);
  });

  it('a hold shorter than 3 s does nothing', async () => {
    const { seen, press } = await setup(true);
    await press(2000);
    expect(seen).toEqual([]);
  });
});
