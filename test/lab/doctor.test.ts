/**
 * Device lab, doctor: inside the lab `bodycam doctor` finds the camera (vivid, with the frame size it really
 * gives), the microphone and the speaker (the loopback card) and passes those checks; on this machine outside the
 * lab, with the same config, it reports them missing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import type { DoctorReport } from '../../src/cli/doctor/index.ts';
import { cli } from '../harness/daemon.ts';
import { itLab, prepare, report, scenario } from './lab.ts';

const DEVICE_CHECKS = ['camera', 'microphone', 'speaker'];

const byId = (r: DoctorReport) => Object.fromEntries(r.checks.map((c) => [c.id, c]));

describe('device lab: doctor', () => {
  itLab(
    'finds the camera, microphone and speaker in the lab, and reports them missing outside it',
    async () => {
      const s = await scenario('doctor', { channels: 1 }, [], { list: false });
      const inside = JSON.parse(readFileSync(path.join(s.run.outDir, 'doctor.json'), 'utf8')) as DoctorReport;
      const checks = byId(inside);
      for (const id of ['microphone', 'speaker'])
        expect(checks[id], `${id}: ${checks[id]?.detail}`).toMatchObject({ status: 'pass' });
      // vivid gives 320x180 for 320x240: doctor finds the camera and warns that the size differs.
      expect(checks['camera']?.status, checks['camera']?.detail).not.toBe('fail');
      expect(checks['camera']?.detail).toMatch(/\/dev\/video0 gives 320x180/);

      // The same camera's config on this machine, which has neither device.
      const here = prepare({ channels: 1 });
      const r = cli(['doctor', '--config', here.configFile, '--json']);
      expect(r.code).toBe(1);
      const outside = byId(JSON.parse(r.stdout) as DoctorReport);
      for (const id of ['camera', 'microphone'])
        expect(outside[id], `${id} outside the lab`).toMatchObject({ status: 'fail' });
      report(
        'doctor',
        s,
        `inside: ${DEVICE_CHECKS.map((id) => `${id} ${checks[id]?.status} (${checks[id]?.detail})`).join('; ')}; outside: camera ${outside['camera']?.status}, microphone ${outside['microphone']?.status}, speaker ${outside['speaker']?.status}`,
      );
    },
    600_000,
  );
});
