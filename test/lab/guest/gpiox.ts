/**
 * arm64 system scenario "gpiox": Debian arm64 booted under systemd, the application as the device runs it (arm64
 * Node 24, @iiot2k/gpiox's arm64 addon). A gpio-sim bank labelled `pinctrl-rp1` with the pi5 profile's lines,
 * owned by group gpio through a real udev rule. First without /dev/gpiochip4: gpiox would open gpiochip0 (the
 * virt machine's PL061), so the daemon must refuse to start; then with /dev/gpiochip4 linked to the bank (what
 * Raspberry Pi OS does on a Pi 5), as the bodycam user: a double press starts recording, a 3 s hold stops it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readCharDevChips } from '../../../src/hal/gpio/chips.ts';
import { LabDaemon, sleep, step, within } from './common.ts';
import { createBank, type LineSpec, sample, setActive } from './kernel-lines.ts';

const OUT = process.env['LAB_OUT'] ?? '/lab-out';
const config = JSON.parse(readFileSync(`${OUT}/cam/config.json`, 'utf8')) as {
  gpio: { chip: string; inputs: Record<string, LineSpec>; outputs: Record<string, LineSpec> };
};
const { inputs, outputs } = config.gpio;
const record = inputs['record'] as LineSpec;
const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

// The service user and the gpio group, and the udev rule Raspberry Pi OS has for GPIO chips (Debian has neither).
for (const g of ['gpio', 'i2c']) run('groupadd', '--system', '--force', g);
run(
  'useradd',
  '--system',
  '--user-group',
  '--groups',
  'video,audio,gpio,i2c',
  '--home-dir',
  '/var/lib/bodycam',
  'bodycam',
);
mkdirSync('/etc/udev/rules.d', { recursive: true });
writeFileSync('/etc/udev/rules.d/99-gpio.rules', 'SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"\n');
run('udevadm', 'control', '--reload');
run('modprobe', 'gpio-sim');
const names = Object.fromEntries([...Object.entries(inputs), ...Object.entries(outputs)].map(([n, l]) => [n, l.pin]));
const bank = createBank(config.gpio.chip, 54, names);
for (const l of Object.values(inputs)) setActive(bank, l, false);
run('udevadm', 'settle');
const chips = await readCharDevChips();
const node = statSync(`/dev/${bank.chip}`);
const gid = Number(run('getent', 'group', 'gpio').split(':')[2]);
const result: Record<string, unknown> = {
  kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  machine: run('uname', '-m'),
  // Waits for the boot to finish (slow under emulation); the state is reported, not required (degraded exits 1).
  systemd: spawnSync('systemctl', ['is-system-running', '--wait'], { encoding: 'utf8', timeout: 300_000 })
    .stdout.trim()
    .split('\n')[0],
  chips,
  bank: { name: bank.chip, label: bank.label },
  bankNode: { gpioGroup: node.gid === gid, mode: (node.mode & 0o777).toString(8) },
};
step(`chips ${JSON.stringify(chips)}`);

const uid = Number(run('id', '-u', 'bodycam'));
const user = {
  uid,
  gid: Number(run('id', '-g', 'bodycam')),
  groups: Object.fromEntries(
    ['video', 'audio', 'gpio', 'i2c'].map((g) => [g, Number(run('getent', 'group', g).split(':')[2])]),
  ),
};

// Without the link, gpiox would drive gpiochip0: the daemon must refuse, naming it.
if (bank.chip !== 'gpiochip0') {
  const refused = new LabDaemon(user);
  const code = await within(refused.exited, 300_000);
  if (refused.child.exitCode === null) refused.child.kill('SIGKILL');
  result['withoutLink'] = { code, log: refused.log.slice(-2500) };
  step(`without /dev/gpiochip4: daemon exited ${code}`);
}

symlinkSync(bank.chip, '/dev/gpiochip4');
const daemon = new LabDaemon(user);
const leds = { ledRed: outputs['ledRed'] as LineSpec, ledGreen: outputs['ledGreen'] as LineSpec };
try {
  await daemon.waitFor((s) => s.ring.seconds >= 3, 600_000, 'the pre-roll');
  result['daemonUser'] = run('ps', '-o', 'user=,supgrp=', '-p', String(daemon.child.pid)).split(/\s+/);
  result['standby'] = await sample(bank, leds, 1000, 50);
  // A double press: two 150 ms presses, 150 ms apart, on the kernel line.
  for (let i = 0; i < 2; i++) {
    setActive(bank, record, true);
    await sleep(150);
    setActive(bank, record, false);
    await sleep(150);
  }
  result['pressedAt'] = Date.now();
  result['recordingStatus'] = await daemon.waitFor((s) => s.state === 'recording', 120_000, 'recording');
  result['recording'] = await sample(bank, leds, 1000, 50);
  await sleep(4000);
  setActive(bank, record, true);
  await sleep(3600);
  setActive(bank, record, false);
  result['stopped'] = await daemon.waitFor((s) => s.state === 'buffering', 180_000, 'the stop after the hold');
  await daemon.finish({ ...result, events: await daemon.events() });
} finally {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
}
