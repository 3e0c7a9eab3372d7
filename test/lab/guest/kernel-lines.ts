/**
 * Inside the lab VM: kernel GPIO lines and the system around them, as a Raspberry Pi OS camera has them.
 *
 * - A gpio-sim bank (configfs) with the Pi's chip label and line count and the board profile's lines named; a line
 *   is pressed by setting its simulated pull (what a switch to ground or 3.3 V does), outputs read from
 *   `sim_gpioN/value`.
 * - The `bodycam` system user in the groups the package gives it (video, audio, gpio, i2c), and a `gpio` group,
 *   which Debian lacks: /etc/passwd and /etc/group are the host's (read-only over 9p), so copies with the additions
 *   are bound over them for this boot.
 * - What the udev rules do on Raspberry Pi OS (99-com.rules: gpio chips and the sysfs GPIO tree to group gpio with
 *   the group's rights equal to the owner's; Debian's own rules: video, audio, i2c devices to their groups), applied
 *   by `UdevStandIn`, which also follows lines exported later, as udev does on their `add` event.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { step } from './common.ts';

const CONFIGFS = '/sys/kernel/config';

export interface LineSpec {
  pin: number;
  activeLow: boolean;
  pull?: 'up' | 'down' | 'none';
}

export interface SimBank {
  /** `gpiochipN` under /dev. */
  chip: string;
  label: string;
  /** The legacy sysfs base (what onoff adds to BCM numbers). */
  base: number;
  /** The bank's sysfs directory holding `sim_gpioN/{pull,value}`. */
  dir: string;
}

/** Creates and brings up a gpio-sim device with one bank labelled `label`, `lines` lines, the named lines named. */
export function createBank(label: string, lines: number, names: Record<string, number>): SimBank {
  if (!readFileSync('/proc/mounts', 'utf8').includes(` ${CONFIGFS} configfs `)) {
    execFileSync('mount', ['-t', 'configfs', 'none', CONFIGFS]);
  }
  const dev = path.join(CONFIGFS, 'gpio-sim', 'bodycam-lab');
  const bank = path.join(dev, 'bank0');
  mkdirSync(bank, { recursive: true });
  writeFileSync(path.join(bank, 'label'), label);
  writeFileSync(path.join(bank, 'num_lines'), String(lines));
  for (const [name, pin] of Object.entries(names)) {
    mkdirSync(path.join(bank, `line${pin}`));
    writeFileSync(path.join(bank, `line${pin}`, 'name'), name);
  }
  writeFileSync(path.join(dev, 'live'), '1');
  const devName = readFileSync(path.join(dev, 'dev_name'), 'utf8').trim();
  const chip = readFileSync(path.join(bank, 'chip_name'), 'utf8').trim();
  const dir = path.join('/sys/devices/platform', devName, chip);
  const legacy = readdirSync('/sys/class/gpio').find(
    (n) => n.startsWith('gpiochip') && readFileSync(`/sys/class/gpio/${n}/label`, 'utf8').trim() === label,
  );
  if (legacy === undefined) throw new Error(`no legacy sysfs chip labelled ${label}`);
  const base = Number(readFileSync(`/sys/class/gpio/${legacy}/base`, 'utf8'));
  step(`gpio-sim bank ${chip} "${label}", ${lines} lines, sysfs base ${base}`);
  return { chip, label, base, dir };
}

/** Sets a line's physical level as a switch would: `pull-up` is high, `pull-down` low. */
export function setLevel(bank: SimBank, pin: number, high: boolean): void {
  writeFileSync(path.join(bank.dir, `sim_gpio${pin}`, 'pull'), high ? 'pull-up' : 'pull-down');
}

/** Puts an input in its active (pressed, docked) or released state according to its wiring. */
export function setActive(bank: SimBank, line: LineSpec, active: boolean): void {
  setLevel(bank, line.pin, active !== line.activeLow);
}

/** The logical state of an output line (true: LED lit, motor running) read from the kernel's line value. */
export function outputActive(bank: SimBank, line: LineSpec): boolean {
  return (readFileSync(path.join(bank.dir, `sim_gpio${line.pin}`, 'value'), 'utf8').trim() === '1') !== line.activeLow;
}

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy wait: timers are far coarser than a millisecond under emulation
  }
};

/** One press with contact bounce: `bounces` extra edge pairs 1 ms apart at the press and at the release. */
export function bouncyPress(bank: SimBank, line: LineSpec, holdMs: number, bounces = 2): Promise<void> {
  for (let i = 0; i < bounces; i++) {
    setActive(bank, line, true);
    spin(1);
    setActive(bank, line, false);
    spin(1);
  }
  setActive(bank, line, true);
  return new Promise((resolve) =>
    setTimeout(() => {
      for (let i = 0; i < bounces; i++) {
        setActive(bank, line, false);
        spin(1);
        setActive(bank, line, true);
        spin(1);
      }
      setActive(bank, line, false);
      resolve();
    }, holdMs),
  );
}

/** Samples outputs every `everyMs` for `forMs`: one string of 0/1 per line, to read patterns from. */
export async function sample(
  bank: SimBank,
  lines: Record<string, LineSpec>,
  forMs: number,
  everyMs = 20,
): Promise<{ samples: Record<string, string>; everyMs: number; count: number }> {
  const samples: Record<string, string> = Object.fromEntries(Object.keys(lines).map((n) => [n, '']));
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < forMs) {
    for (const [name, line] of Object.entries(lines)) samples[name] += outputActive(bank, line) ? '1' : '0';
    count += 1;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return { samples, everyMs: (performance.now() - start) / count, count };
}

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
  groups: Record<string, number>;
}

/**
 * Adds the `gpio` group (Debian has none) and the `bodycam` system user (groups video, audio, gpio, i2c) to copies of
 * /etc/passwd and /etc/group bound over the read-only originals.
 */
export function addBodycamUser(): SystemUser {
  const groupText = readFileSync('/etc/group', 'utf8');
  const gidOf = (name: string) => Number(groupText.match(new RegExp(`^${name}:[^:]*:(\\d+):`, 'm'))?.[1] ?? Number.NaN);
  let group = groupText;
  if (Number.isNaN(gidOf('gpio'))) group += 'gpio:x:993:\n';
  if (Number.isNaN(gidOf('i2c'))) group += 'i2c:x:994:\n';
  group += 'bodycam:x:995:\n';
  const passwd = `${readFileSync('/etc/passwd', 'utf8')}bodycam:x:995:995:bodycam camera:/var/lib/bodycam:/usr/sbin/nologin\n`;
  mkdirSync('/run/lab-etc', { recursive: true });
  writeFileSync('/run/lab-etc/group', group);
  writeFileSync('/run/lab-etc/passwd', passwd);
  execFileSync('mount', ['--bind', '/run/lab-etc/group', '/etc/group']);
  execFileSync('mount', ['--bind', '/run/lab-etc/passwd', '/etc/passwd']);
  const gids = Object.fromEntries(
    ['video', 'audio', 'gpio', 'i2c'].map((g) => [g, Number(group.match(new RegExp(`^${g}:[^:]*:(\\d+):`, 'm'))?.[1])]),
  );
  step(
    `user bodycam (995) in ${Object.entries(gids)
      .map(([g, id]) => `${g} ${id}`)
      .join(', ')}`,
  );
  return { name: 'bodycam', uid: 995, gid: 995, groups: gids };
}

/** Group `gid`, and the group's rights made equal to the owner's (udev's `chgrp -R gpio … && chmod -R g=u …`). */
function share(file: string, gid: number, recursive: boolean): void {
  const st = lstatSync(file);
  if (st.isSymbolicLink()) return;
  chownSync(file, st.uid, gid);
  const mode = st.mode & 0o7777;
  chmodSync(file, (mode & ~0o070) | ((mode & 0o700) >> 3));
  if (recursive && st.isDirectory()) {
    for (const e of readdirSync(file)) share(path.join(file, e), gid, true);
  }
}

/**
 * What udev does for the camera on Raspberry Pi OS: device nodes to their groups, the GPIO sysfs tree to `gpio`,
 * and each line exported later (a `gpioN` directory appearing) to `gpio` too, polled every few milliseconds.
 * onoff waits for those rights after an export (it retries opening the line's files), as it must under udev.
 */
export class UdevStandIn {
  readonly #groups: Record<string, number>;
  readonly #done = new Set<string>();
  #timer: NodeJS.Timeout | null = null;

  constructor(groups: Record<string, number>) {
    this.#groups = groups;
  }

  start(): void {
    const g = this.#groups;
    const nodes = (dir: string, re: RegExp) =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((n) => re.test(n))
            .map((n) => path.join(dir, n))
        : [];
    for (const f of nodes('/dev', /^gpiochip\d+$/)) share(f, g['gpio'] ?? 0, false);
    for (const f of nodes('/dev', /^video\d+$/)) share(f, g['video'] ?? 0, false);
    for (const f of nodes('/dev', /^i2c-\d+$/)) share(f, g['i2c'] ?? 0, false);
    for (const f of nodes('/dev/snd', /./)) share(f, g['audio'] ?? 0, false);
    for (const f of ['/sys/class/gpio/export', '/sys/class/gpio/unexport']) share(f, g['gpio'] ?? 0, false);
    this.#timer = setInterval(() => this.#follow(), 5);
  }

  #follow(): void {
    for (const n of readdirSync('/sys/class/gpio')) {
      if (!/^gpio\d+$/.test(n) || this.#done.has(n)) continue;
      const dir = realpathSync(path.join('/sys/class/gpio', n));
      try {
        if (statSync(path.join(dir, 'value')).gid === this.#groups['gpio']) continue;
        share(dir, this.#groups['gpio'] ?? 0, false);
        for (const f of ['value', 'direction', 'edge', 'active_low']) {
          if (existsSync(path.join(dir, f))) share(path.join(dir, f), this.#groups['gpio'] ?? 0, false);
        }
        this.#done.add(n);
      } catch {
        // the line is being exported or unexported right now: the next pass sees it settled
      }
    }
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
