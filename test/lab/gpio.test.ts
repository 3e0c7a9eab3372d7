/**
 * Device lab, GPIO: the camera on kernel GPIO lines. gpio-sim (built for the lab's kernel) gives a bank labelled
 * like the Pi 4's header chip with the pi4 profile's lines; the daemon uses the `onoff` driver (sysfs, as on a Pi 4)
 * and runs as the `bodycam` user in the `gpio` group. Each check reads what the kernel's lines did: presses are
 * switch levels on the input lines, and the LEDs and the motor are sampled from the output lines over time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { gpioSimMissing, LAB_MODULES, prepareGpioSim, runInLab } from '../../scripts/lab/vm.ts';
import { enrollCamera, makeDock } from '../harness/broker.ts';
import { cli, type ListedIncident } from '../harness/daemon.ts';
import { checkFootage, itLab, prepare } from './lab.ts';

interface Samples {
  samples: Record<'ledRed' | 'ledGreen' | 'haptic', string>;
  everyMs: number;
  count: number;
}

const gpioMissing = gpioSimMissing();
const itGpio: typeof itLab =
  gpioMissing === null
    ? itLab
    : (((name: string, fn?: unknown, t?: number) =>
        itLab.skip(`${name} (skipped: ${gpioMissing})`, fn as () => void, t)) as unknown as typeof itLab);

/** Runs of equal samples, e.g. '0011100' → [['0',2],['1',3],['0',2]]. */
function runs(s: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const ch of s) {
    const last = out.at(-1);
    if (last !== undefined && last[0] === ch) last[1] += 1;
    else out.push([ch, 1]);
  }
  return out;
}

describe('device lab: kernel GPIO lines (gpio-sim, onoff driver, bodycam user)', () => {
  itGpio(
    'press, hold, bounce, trigger and dock on kernel lines; LEDs and motor as the officer sees them',
    async () => {
      const lab = prepareGpioSim();
      const outDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-lab-gpio-'));
      const cam = prepare({ channels: 1, board: 'pi4', audio: false }, outDir);
      // The guest's 1 GB tmpfs is under the default low-storage mark, which would show its own pattern on standby.
      const c = JSON.parse(readFileSync(cam.configFile, 'utf8')) as Record<string, Record<string, unknown>>;
      c['feedback'] = { ...c['feedback'], storageLowMb: 64 };
      writeFileSync(cam.configFile, JSON.stringify(c, null, 2));
      const dock = await makeDock(['--host', 'localhost']);
      enrollCamera(dock.dir, cam.configFile);
      // cp -a: the broker's key keeps the owner and mode `dock init` gave it (Mosquitto reads it as its own user).
      spawnSync('cp', ['-a', dock.dir, path.join(outDir, 'dock')]);
      const run = await runInLab({
        command: 'node test/lab/guest/gpio.ts',
        outDir,
        modules: [...LAB_MODULES, 'gpio-sim'],
        env: { LAB_DOCK_FROM: dock.dir },
        timeoutMs: 580_000,
      });
      if (run.code !== 0) {
        throw new Error(
          `lab scenario gpio exited ${run.code}:\n${run.output.slice(-6000)}\n${run.console.slice(-1500)}`,
        );
      }
      const r = JSON.parse(readFileSync(path.join(outDir, 'result.json'), 'utf8')) as Record<string, unknown> & {
        kernel: string;
        chip: { name: string; label: string; base: number };
        events: Array<{ kind: string; data: Record<string, unknown> }>;
      };
      const daemonLog = readFileSync(path.join(outDir, 'daemon.log'), 'utf8');
      const s = (k: string) => r[k] as Samples;

      // Which kernel and chip this ran on, and as whom.
      expect(r.kernel).toBe(lab.kernelVersion);
      expect(r.chip.label).toBe('pinctrl-bcm2711');
      const [user, group, groups] = r['daemonUser'] as string[];
      expect([user, group]).toEqual(['bodycam', 'bodycam']);
      expect(groups?.split(',').sort()).toEqual(['audio', 'gpio', 'i2c', 'video']);

      // Standby: green steady, red and motor off.
      expect(s('standby').samples.ledGreen).toMatch(/^1+$/);
      expect(s('standby').samples.ledRed).toMatch(/^0+$/);
      expect(s('standby').samples.haptic).toMatch(/^0+$/);

      // A bouncing single press counts once: it is no double press, so nothing started.
      expect(r['afterBouncySingle']).toBe('buffering');

      // The double press started recording: red steady, green off, the motor's two start pulses.
      expect(s('recording').samples.ledRed).toMatch(/^1+$/);
      expect(s('recording').samples.ledGreen).toMatch(/^0+$/);
      // The motor's two start pulses (timed by the daemon's timers, which emulation stretches several times over).
      const pulses = runs(s('startCue').samples.haptic).filter(([v]) => v === '1');
      expect(pulses.length, `motor ${s('startCue').samples.haptic}`).toBe(2);
      const logLines = daemonLog
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg: string; time: number; ms?: number; trigger?: string });
      const started = logLines.find((l) => l.msg === 'recording started');
      const durable = logLines.find((l) => l.msg === 'first footage durable');
      expect(started?.trigger).toBe('button');
      expect(durable?.ms).toBeGreaterThanOrEqual(0);
      const pressToStart = (started?.time ?? Number.NaN) - (r['doublePressAt'] as number);
      // The start follows the second release (debounce + the pattern), within what emulation allows.
      expect(pressToStart).toBeGreaterThanOrEqual(0);
      expect(pressToStart).toBeLessThan(5000);

      // The hold stopped it: green back, red off.
      expect(s('afterStop').samples.ledGreen).toMatch(/^1+$/);
      expect(s('afterStop').samples.ledRed).toMatch(/^0+$/);
      const stops = r.events.filter((e) => e.kind === 'stop').map((e) => e.data['reason']);
      expect(stops).toEqual(['button-hold', 'button-hold']);

      // Two incidents: the double press and the trigger line's edge; both closed and playable.
      const listed = cli(['list', '--config', path.join(outDir, 'cam', 'config.json'), '--json']);
      const incidents = (JSON.parse(listed.stdout) as { incidents: ListedIncident[] }).incidents;
      expect(incidents.map((i) => i.trigger)).toEqual(['button', 'line:trigger']);
      for (const incident of incidents) checkFootage(incident, cam.identity);

      // The dock line opened a session: the dock agent got the camera's hello.
      const hellos = r['hellos'] as Array<{ topic: string; body: { device: string; session: string } }>;
      const device = (JSON.parse(readFileSync(cam.configFile, 'utf8')) as { device: { id: string } }).device.id;
      expect(hellos.length).toBeGreaterThanOrEqual(1);
      expect(hellos[0]?.topic).toBe(`bodycam/cam/${device}/up/hello`);
      expect(hellos[0]?.body.device).toBe(device);
      expect(hellos[0]?.body.session).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['docked', 'undocked']));

      // A capture fault: red blinks (250 ms on, 250 ms off), green off until capture runs again (the camera restarts
      // ffmpeg by itself, which may happen before the sampling ends: green then comes back on and stays on).
      const fault = s('captureFault');
      const green = fault.samples.ledGreen;
      expect(green).toMatch(/^0+1*$/);
      const faultSamples = green.includes('1') ? green.indexOf('1') : green.length;
      expect(faultSamples * fault.everyMs, `fault shown for ${faultSamples} samples`).toBeGreaterThanOrEqual(1250);
      const red = runs(fault.samples.ledRed.slice(0, faultSamples));
      expect(red.length, `red ${fault.samples.ledRed}`).toBeGreaterThanOrEqual(4);
      const inner = red.slice(1, -1).map(([, n]) => n * fault.everyMs);
      // 250 ms steps, stretched and sampled under emulation: never the 1 s of the slow pattern, never steady.
      for (const ms of inner) expect(ms).toBeGreaterThan(40);
      for (const ms of inner) expect(ms).toBeLessThan(800);

      console.log(
        `device lab: kernel GPIO: kernel ${r.kernel}, chip ${r.chip.name} "${r.chip.label}" (sysfs base ${r.chip.base}); ` +
          `double press → recording ${pressToStart} ms, activation → first footage durable ${durable?.ms} ms; ` +
          `red blink runs ${inner.map((n) => Math.round(n)).join('/')} ms; VM ${run.seconds.toFixed(0)} s`,
      );
    },
    600_000,
  );
});
