/**
 * Lab scenario "battery": a MAX17048 fuel gauge served by the kernel's i2c-stub at 0x36 on i2c-0 (registers set
 * here with i2cset, as SMBus words: the chip's big-endian registers byte-swapped), read by the daemon through
 * /dev/i2c-0 as the `bodycam` user (group i2c). The charge walks 50 % → 14 % (low: the officer is warned) → 4 %
 * during a recording (critical: the recording closes, then the power-off command runs; here it writes a marker).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { LabDaemon, sleep, step } from './common.ts';
import { addBodycamUser, UdevStandIn } from './kernel-lines.ts';

const swap = (w: number) => ((w & 0xff) << 8) | ((w >> 8) & 0xff);
/** Sets one register of the stub chip to the big-endian value `v`. */
function reg(r: number, v: number): void {
  execFileSync('i2cset', ['-y', '0', '0x36', `0x${r.toString(16)}`, `0x${swap(v).toString(16)}`, 'w']);
}
/** The gauge's charge and voltage, as the chip encodes them (1/256 %, 78.125 µV). */
function battery(percent: number, volts: number): void {
  reg(0x04, Math.round(percent * 256));
  reg(0x02, Math.round(volts / 78.125e-6));
  step(`gauge: ${percent} %, ${volts} V`);
}

const adapter = readFileSync('/sys/class/i2c-adapter/i2c-0/name', 'utf8').trim();
reg(0x08, 0x0012); // VERSION
battery(50, 3.85);
const user = addBodycamUser();
const udev = new UdevStandIn(user.groups);
udev.start();
const daemon = new LabDaemon(user);
const marker = '/tmp/lab-cam/poweroff-requested';
const result: Record<string, unknown> = { adapter, kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() };
try {
  await daemon.waitFor((s) => s.ring.seconds >= 3 && s.battery?.percent === 50, 240_000, 'the pre-roll at 50 %');
  result['at50'] = (await daemon.status()).battery;
  battery(14, 3.62);
  const low = await daemon.waitFor((s) => s.battery?.level === 'low', 60_000, 'the low warning');
  result['at14'] = { battery: low.battery, led: low.outputs?.led, vibration: low.outputs?.vibration };
  await daemon.press('record', 2);
  const rec = await daemon.waitFor((s) => s.state === 'recording', 60_000, 'recording');
  result['recordingLed'] = rec.outputs?.led;
  await sleep(6000);
  result['stillRecordingAt14'] = (await daemon.status()).state;
  battery(4, 3.4);
  result['criticalAt'] = Date.now();
  const off = await daemon.waitFor((s) => s.battery?.shutdownRequested === true, 120_000, 'the power-off request');
  const deadline = Date.now() + 30_000;
  // The shell creates the file before `date` writes to it: wait for its content.
  const written = () => existsSync(marker) && readFileSync(marker, 'utf8').trim() !== '';
  while (!written() && Date.now() < deadline) await sleep(200);
  result['marker'] = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : null;
  result['final'] = off;
  await daemon.finish({ ...result, status: await daemon.status(), events: await daemon.events() });
} finally {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  udev.stop();
}
