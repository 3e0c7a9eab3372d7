/**
 * The Pi 5 driver on arm64: Debian arm64 (mmdebstrap root, Debian's arm64 kernel) booted to multi-user under
 * qemu-system-aarch64, the application as the device runs it, the `gpiox` driver on a gpio-sim chip labelled
 * `pinctrl-rp1` (cross-built for that kernel). The daemon refuses the chip gpiox would open when it is not the
 * header's, and on the right one a double press starts recording and a 3 s hold stops it. Long (the build, then
 * everything under full emulation): runs with BODYCAM_ARM64_SYSTEM=1, which .ci/run sets.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { arm64SystemMissing, prepareArm64System, runInArm64System } from '../../scripts/arm64/system-vm.ts';
import { cli, type ListedIncident } from '../harness/daemon.ts';
import { which } from '../harness/tools.ts';
import { checkFootage } from './lab.ts';

const missing = arm64SystemMissing() ?? (which('age') === null ? 'age not on PATH' : null);
if (missing !== null) console.warn(`arm64 system: skipped: ${missing}`);
const itSystem: typeof it =
  missing === null
    ? it
    : (((name: string, fn?: unknown, t?: number) =>
        it.skip(`${name} (skipped: ${missing})`, fn as () => void, t)) as unknown as typeof it);

describe('arm64 system: the gpiox driver on a kernel GPIO chip labelled pinctrl-rp1', () => {
  itSystem(
    'refuses the wrong chip; on pinctrl-rp1 a double press starts and a hold stops recording',
    async () => {
      const sys = prepareArm64System();
      const outDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-arm64-gpiox-'));
      const identity = path.join(outDir, 'custodian.key');
      const keygen = cli(['keygen', '--out', identity]);
      const camDir = path.join(outDir, 'cam');
      const init = cli(['init', '--board', 'pi5', '--dir', camDir, '--recipient', keygen.stdout.trim()]);
      expect(init.code, init.stderr).toBe(0);
      const configFile = path.join(camDir, 'config.json');
      const c = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, Record<string, unknown>>;
      // The pi5 profile's GPIO (gpiox, pinctrl-rp1, its pins); a synthetic picture and the speaker as files, since
      // the VM has no camera or sound card; no gauge (the VM has no I2C).
      c['capture'] = {
        ...c['capture'],
        stallMs: 60_000,
        source: { kind: 'synthetic', width: 320, height: 240, fps: 10, videoBitrateKbps: 200, audio: false },
      };
      c['preRecord'] = { ...c['preRecord'], seconds: 3, audio: false };
      c['recording'] = { ...c['recording'], segmentSeconds: 10 };
      c['audio'] = { driver: 'file', dir: 'speaker' };
      c['battery'] = { gauge: 'none' };
      c['storage'] = { dir: 'storage' };
      c['feedback'] = { ...c['feedback'], storageLowMb: 64 };
      writeFileSync(configFile, JSON.stringify(c, null, 2));
      expect(c['gpio']).toMatchObject({ driver: 'gpiox', chip: 'pinctrl-rp1' });

      const run = await runInArm64System({
        command: `"$LAB_NODE" test/lab/guest/gpiox.ts`,
        outDir,
        timeoutMs: 1_500_000,
      });
      if (run.code !== 0) {
        throw new Error(`arm64 scenario exited ${run.code}:\n${run.output.slice(-6000)}\n${run.console.slice(-2000)}`);
      }
      const r = JSON.parse(readFileSync(path.join(outDir, 'result.json'), 'utf8')) as Record<string, unknown> & {
        chips: Array<{ name: string; label: string | null }>;
        bank: { name: string; label: string };
        events: Array<{ kind: string; data: Record<string, unknown> }>;
      };
      expect(r['kernel']).toBe(sys.kernelVersion);
      expect(r['machine']).toBe('aarch64');
      expect(r.bank.label).toBe('pinctrl-rp1');
      expect(r.chips).toContainEqual({ name: r.bank.name, label: 'pinctrl-rp1' });
      expect(r['bankNode']).toEqual({ gpioGroup: true, mode: '660' });
      const first = r.chips.find((ch) => ch.name === 'gpiochip0');
      if (r.bank.name !== 'gpiochip0') {
        const refused = r['withoutLink'] as { code: number; log: string };
        expect(refused.code).not.toBe(0);
        expect(refused.log).toContain('HAL_GPIO_UNAVAILABLE');
        expect(refused.log).toContain(`would drive /dev/gpiochip0, labelled ${first?.label}`);
      }
      const [user, groups] = r['daemonUser'] as string[];
      expect(user).toBe('bodycam');
      expect(groups?.split(',')).toContain('gpio');
      const standby = r['standby'] as { samples: { ledRed: string; ledGreen: string } };
      const recording = r['recording'] as { samples: { ledRed: string; ledGreen: string } };
      expect(standby.samples.ledGreen).toMatch(/^1+$/);
      expect(recording.samples.ledRed).toMatch(/^1+$/);
      expect(r.events.filter((e) => e.kind === 'stop').map((e) => e.data['reason'])).toEqual(['button-hold']);

      const listed = cli(['list', '--config', configFile, '--json']);
      const incidents = (JSON.parse(listed.stdout) as { incidents: ListedIncident[] }).incidents;
      expect(incidents.map((i) => i.trigger)).toEqual(['button']);
      const footage = checkFootage(incidents[0] as ListedIncident, identity);
      console.log(
        `arm64 system: kernel ${r['kernel']} (${r['machine']}, systemd ${r['systemd']}); chips ` +
          `${r.chips.map((ch) => `${ch.name} "${ch.label}"`).join(', ')}; gpiox on ${r.bank.name} "${r.bank.label}" ` +
          `via /dev/gpiochip4; double press → recording, hold → stop; ${footage.video.length} frames; VM ${run.seconds.toFixed(0)} s`,
      );
    },
    2_400_000,
  );
});
