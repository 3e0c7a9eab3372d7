/** Lab scenario "doctor": `bodycam doctor --json` on the lab camera, inside the VM with its devices. */
import { spawnSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { devices, OUT, step } from './common.ts';

const cam = '/tmp/lab-cam';
cpSync(path.join(OUT, 'cam'), cam, { recursive: true });
const cli = path.resolve(import.meta.dirname, '../../../dist/cli/bodycam.js');
const r = spawnSync(process.execPath, [cli, 'doctor', '--config', `${cam}/config.json`, '--json'], {
  encoding: 'utf8',
  timeout: 300_000,
});
step(`doctor exited ${r.status}`);
writeFileSync(path.join(OUT, 'doctor.json'), r.stdout);
writeFileSync(
  path.join(OUT, 'result.json'),
  JSON.stringify({ devices: devices(), doctorExit: r.status, stderr: r.stderr }),
);
