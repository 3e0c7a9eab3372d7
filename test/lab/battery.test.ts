/**
 * Device lab, battery: the daemon reads a MAX17048 fuel gauge served by the kernel's i2c-stub (a real SMBus adapter
 * and /dev/i2c-0, the registers set by the test) as the `bodycam` user. 50 % → 14 %: the officer is warned (LED
 * pattern, vibration, event log) and nothing stops; 4 % during a recording: the incident closes with the reason
 * power-low and its closing manifest, verifies as a custodian would check it, and only then is the power-off
 * command run.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { LAB_MODULES, runInLab } from '../../scripts/lab/vm.ts';
import { cli, type ListedIncident } from '../harness/daemon.ts';
import { checkFootage, itLab, prepare } from './lab.ts';

describe('device lab: battery on a kernel I2C bus (i2c-stub)', () => {
  itLab(
    '50 % → 14 % (low) → 4 % while recording: closed cleanly, verified, then the power-off request',
    async () => {
      const cam = prepare({ channels: 1, audio: false });
      const c = JSON.parse(readFileSync(cam.configFile, 'utf8')) as Record<string, Record<string, unknown>>;
      c['battery'] = {
        gauge: 'max17048',
        bus: 0,
        address: 0x36,
        pollSeconds: 1,
        // The lab's stand-in for `systemctl poweroff`: the time it ran, in a file the host reads.
        shutdownCommand: ['sh', '-c', 'date +%s%3N > /tmp/lab-cam/poweroff-requested'],
      };
      c['feedback'] = { ...c['feedback'], storageLowMb: 64 };
      writeFileSync(cam.configFile, JSON.stringify(c, null, 2));
      const run = await runInLab({
        command: 'node test/lab/guest/battery.ts',
        outDir: cam.outDir,
        modules: [...LAB_MODULES, 'i2c-stub:chip_addr=0x36', 'i2c-dev'],
        timeoutMs: 480_000,
      });
      if (run.code !== 0) throw new Error(`lab scenario battery exited ${run.code}:\n${run.output.slice(-6000)}`);
      const r = JSON.parse(readFileSync(path.join(cam.outDir, 'result.json'), 'utf8')) as Record<string, unknown> & {
        events: Array<{ id: number; kind: string; incidentId: string | null; data: Record<string, unknown> }>;
      };
      const at = (k: string) => r[k] as Record<string, unknown>;

      expect(r['adapter']).toBe('SMBus stub driver');
      expect(at('at50')).toMatchObject({ gauge: 'max17048', level: 'ok', percent: 50, volts: 3.85 });
      // 14 %: low, shown and felt; recording still starts and goes on.
      const low = at('at14') as { battery: unknown; led: unknown; vibration: unknown };
      expect(low.battery).toMatchObject({ level: 'low', percent: 14 });
      expect(low.led).toMatchObject({ indication: 'standby', warning: 'battery-low', red: 'flash1' });
      expect(low.vibration).toMatchObject({ last: 'battery-low' });
      expect(at('recordingLed')).toMatchObject({ indication: 'recording', warning: 'battery-low', green: 'flash1' });
      expect(r['stillRecordingAt14']).toBe('recording');

      // 4 %: the incident closed with power-low, its closing manifest written, then the power-off asked for.
      const kinds = r.events.map((e) => e.kind);
      const stop = r.events.find((e) => e.kind === 'stop');
      expect(stop?.data['reason']).toBe('power-low');
      const closing = r.events.find((e) => e.kind === 'manifest' && e.data['kind'] === 'incident');
      const shutdown = r.events.find((e) => e.kind === 'shutdown_requested');
      expect(kinds).toEqual(expect.arrayContaining(['battery_low', 'battery_critical']));
      expect(closing?.id).toBeGreaterThan(stop?.id ?? Number.POSITIVE_INFINITY);
      expect(shutdown?.id).toBeGreaterThan(closing?.id ?? Number.POSITIVE_INFINITY);
      expect(shutdown?.data['command']).toEqual(c['battery']?.['shutdownCommand']);
      expect(Number(r['marker'])).toBeGreaterThanOrEqual(r['criticalAt'] as number);
      expect(at('final')).toMatchObject({
        state: 'buffering',
        battery: { level: 'critical', shutdownRequested: true },
      });

      // The incident is complete and verifies offline with the device's public key, as a custodian checks it.
      const configFile = path.join(cam.outDir, 'cam', 'config.json');
      const listed = cli(['list', '--config', configFile, '--json']);
      const incidents = (JSON.parse(listed.stdout) as { incidents: ListedIncident[] }).incidents;
      expect(incidents).toHaveLength(1);
      const footage = checkFootage(incidents[0] as ListedIncident, cam.identity);
      const storage = path.join(cam.outDir, 'cam', 'storage');
      const key = path.join(cam.outDir, 'cam', 'identity', 'device.pub');
      const verify = cli(['verify', storage, '--key', key]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      console.log(
        `device lab: battery: kernel ${r['kernel']}, ${r['adapter']} (i2c-0, 0x36); 4 % → power-off requested ` +
          `${Number(r['marker']) - (r['criticalAt'] as number)} ms later, after the closing manifest; ` +
          `incident of ${footage.video.length} frames verified; VM ${run.seconds.toFixed(0)} s`,
      );
    },
    600_000,
  );
});
