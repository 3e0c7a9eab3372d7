/**
 * The device lab: boots Debian's own kernel under qemu (TCG: KVM guests hang on these machines) with this machine's
 * root filesystem shared read-only over 9p, loads real drivers for hardware that is not there (vivid: a V4L2
 * capture device; snd-aloop: an ALSA loopback card), runs one command inside with the project checkout and returns
 * its exit code and output. What the command writes to $LAB_OUT (a host directory shared over 9p) stays on the host;
 * everything else it writes lands on the guest's tmpfs and is gone at power-off.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
const BUILD = path.join(REPO, 'scripts/lab/build.sh');

/** The lab's two devices: one vivid capture node (/dev/video0), and the loopback card `Loopback`. */
export const LAB_MODULES = ['vivid:n_devs=1,node_types=0x1', 'snd-aloop'];

export interface Lab {
  cache: string;
  kernel: string;
  kernelVersion: string;
}

function onPath(command: string): boolean {
  const r = spawnSync('sh', ['-c', 'command -v "$1" || test -x "/usr/sbin/$1" || test -x "/sbin/$1"', 'x', command]);
  return r.status === 0;
}

/** Why the lab cannot start on this machine (naming what is missing), or null when it can. */
export function labMissing(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `the lab needs linux x64 (this is ${process.platform} ${process.arch})`;
  const tools: Record<string, string> = {
    'qemu-system-x86_64': 'qemu-system-x86',
    modprobe: 'kmod',
    depmod: 'kmod',
    cpio: 'cpio',
    busybox: 'busybox-static',
    'apt-get': 'apt',
    'dpkg-deb': 'dpkg',
  };
  const missing = Object.entries(tools)
    .filter(([cmd]) => !onPath(cmd))
    .map(([cmd, pkg]) => `${cmd} (Debian package ${pkg})`);
  if (missing.length > 0) return `missing ${missing.join(', ')}: scripts/setup.sh installs them`;
  if (!existsSync(path.join(REPO, 'dist/cli/bodycam.js'))) return 'dist/ is not built (npm run build)';
  return null;
}

let prepared: Lab | null = null;

/** Fetches and unpacks the kernel and builds the initramfs once (cached under .cache/lab). */
export function prepareLab(): Lab {
  if (prepared !== null) return prepared;
  const r = spawnSync('bash', [BUILD], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  if (r.status !== 0) throw new Error(`scripts/lab/build.sh failed (${r.status ?? r.signal})`);
  const cache = r.stdout.trim().split('\n').at(-1) ?? '';
  const kernelVersion = readFileSync(path.join(cache, 'kernel-version'), 'utf8').trim();
  prepared = { cache, kernel: path.join(cache, 'kernel'), kernelVersion };
  return prepared;
}

/** Why the lab cannot build its GPIO simulator here (naming the Debian package), or null when it can. */
export function gpioSimMissing(): string | null {
  const missing: string[] = [];
  if (!existsSync('/usr/src/linux-source-6.1.tar.xz')) missing.push('linux-source-6.1');
  if (!onPath('make')) missing.push('make');
  if (!onPath('gcc-12')) missing.push('gcc');
  return missing.length === 0 ? null : `missing Debian packages ${missing.join(', ')}: scripts/setup.sh installs them`;
}

/**
 * Builds gpio-sim and irq_sim for the lab's kernel (scripts/lab/gpio-modules.sh, cached under the lab's cache) and
 * puts them among its modules, so the guest loads `gpio-sim` with modprobe like any other (configfs with it).
 */
export function prepareGpioSim(): Lab {
  const lab = prepareLab();
  const out = path.join(lab.cache, 'gpio-sim');
  const r = spawnSync('bash', [path.join(REPO, 'scripts/lab/gpio-modules.sh'), 'amd64', lab.kernelVersion, out], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`scripts/lab/gpio-modules.sh failed (${r.status ?? r.signal})`);
  const extra = path.join(lab.kernel, 'lib/modules', lab.kernelVersion, 'extra');
  mkdirSync(extra, { recursive: true });
  for (const ko of ['gpio-sim.ko', 'irq_sim.ko']) copyFileSync(path.join(out, ko), path.join(extra, ko));
  const dep = spawnSync('depmod', ['-b', lab.kernel, lab.kernelVersion], {
    env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin` },
  });
  if (dep.status !== 0) throw new Error(`depmod for the lab's kernel failed: ${dep.stderr}`);
  return lab;
}

export interface RunOptions {
  /** Shell command, run by /bin/sh in `cwd` inside the guest as root. */
  command: string;
  /** Modules to load before the command, `name:arg=v,arg=v` (default: LAB_MODULES). */
  modules?: string[];
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  memoryMb?: number;
  /** Virtual CPUs (at most 2: the machine's two cores are shared). */
  cpus?: number;
  /** The host directory shared as $LAB_OUT (default: a new temp directory); the caller may put inputs there. */
  outDir?: string;
}

export interface LabRun {
  code: number;
  /** The command's stdout and stderr. */
  output: string;
  /** The guest's serial console (kernel messages, the init's markers). */
  console: string;
  /** The host directory the guest saw as $LAB_OUT. */
  outDir: string;
  seconds: number;
  kernelVersion: string;
  /** Set when the first boot's scenario crashed before its first step and the lab booted once more (see runInLab). */
  crashedFirst?: string;
}

/** Exit codes of a shell's command killed by SIGILL, SIGABRT, SIGBUS or SIGSEGV. */
const CRASH_CODES = new Set([132, 134, 135, 139]);

/** Whether the scenario crashed (a signal, not a kill or an exit) before it printed its first step. */
export function crashedBeforeFirstStep(run: Pick<LabRun, 'code' | 'output'>): boolean {
  return CRASH_CODES.has(run.code) && !/^\[guest /m.test(run.output);
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Boots the lab, runs `command` and powers off. Rejects only when the VM itself fails (no exit code came back).
 * A scenario whose Node crashed (SIGSEGV and kin) before it printed its first step (`step()`, "[guest …]"), i.e.
 * while loading its modules under the emulated CPU and before anything of the camera ran, is booted once more: CI
 * saw that once in many runs. The first boot's output and the kernel's line for the crash (there is none for Node
 * itself: it handles SIGSEGV before dying of it) stay in `crashedFirst` and on stderr; a second crash, or any crash
 * after the first step, is the run's result.
 */
export async function runInLab(options: RunOptions): Promise<LabRun> {
  const first = await bootLab(options);
  if (!crashedBeforeFirstStep(first)) return first;
  const kernel = first.console
    .split('\n')
    .filter((l) => l.startsWith('lab: kernel: '))
    .join('\n');
  const crashedFirst = `exit ${first.code} before the first step\n${first.output.slice(-2000)}\n${kernel}`;
  process.stderr.write(`lab: the scenario crashed before its first step; booting once more\n${crashedFirst}\n`);
  for (const f of ['exit-code', 'output.log']) rmSync(path.join(first.outDir, f), { force: true });
  return { ...(await bootLab({ ...options, outDir: first.outDir })), crashedFirst };
}

async function bootLab(options: RunOptions): Promise<LabRun> {
  const lab = prepareLab();
  const outDir = options.outDir ?? mkdtempSync(path.join(os.tmpdir(), 'bodycam-lab-'));
  const env: Record<string, string> = {
    PATH: `${path.join(REPO, 'node_modules/.bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: '/root',
    LANG: 'C.UTF-8',
    TMPDIR: '/tmp',
    LAB_OUT: '/tmp/lab-out',
    LAB_CWD: options.cwd ?? REPO,
    LAB_KERNEL: lab.kernel,
    LAB_KERNEL_VERSION: lab.kernelVersion,
    LAB_MODULES: (options.modules ?? LAB_MODULES).join(' '),
    ...options.env,
  };
  writeFileSync(
    path.join(outDir, 'env.sh'),
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${quote(v)}\n`)
      .join(''),
  );
  writeFileSync(path.join(outDir, 'command.sh'), `${options.command}\n`);
  const cpus = Math.min(options.cpus ?? 2, 2);
  const args = [
    '-accel',
    'tcg,thread=multi',
    '-machine',
    'q35',
    '-cpu',
    'max',
    '-smp',
    String(cpus),
    '-m',
    String(options.memoryMb ?? 2048),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-serial',
    'stdio',
    '-kernel',
    path.join(lab.cache, 'vmlinuz'),
    '-initrd',
    path.join(lab.cache, 'initramfs.gz'),
    '-append',
    'console=ttyS0 loglevel=4 panic=-1 rdinit=/init',
    '-device',
    'virtio-rng-pci',
    '-virtfs',
    'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs',
    `local,path=${outDir},mount_tag=labout,security_model=none`,
  ];
  const started = Date.now();
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let serial = '';
  child.stdout.on('data', (d: Buffer) => {
    serial += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    serial += d.toString();
  });
  const timeoutMs = options.timeoutMs ?? 300_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  const seconds = (Date.now() - started) / 1000;
  const codeFile = path.join(outDir, 'exit-code');
  const output = existsSync(path.join(outDir, 'output.log'))
    ? readFileSync(path.join(outDir, 'output.log'), 'utf8')
    : '';
  if (!existsSync(codeFile)) {
    const why = seconds * 1000 >= timeoutMs ? `timed out after ${timeoutMs / 1000} s` : `qemu exited ${exit}`;
    throw new Error(
      `the lab VM gave no exit code (${why})\n--- console ---\n${serial.slice(-4000)}\n--- output ---\n${output.slice(-4000)}`,
    );
  }
  const code = Number(readFileSync(codeFile, 'utf8').trim());
  return { code, output, console: serial, outDir, seconds, kernelVersion: lab.kernelVersion };
}
