/**
 * The system test's machine: a fresh Debian 12 root (scripts/system/build.sh: mmdebstrap, cached) into which the
 * bodycam package is installed with apt in a chroot (its maintainer scripts run as on a real install), turned into an
 * ext4 disk image and booted with Debian's kernel under qemu (TCG: KVM guests hang on these machines) with systemd
 * as PID 1. A unit runs scripts/system/check.sh once the machine is up; its findings come back on the serial
 * console as `SYSCHECK <uptime> <name> <value>` lines. Nothing of the host changes: the chroot's mounts live in a
 * mount namespace of their own, and everything else is under a temporary directory removed afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
const HERE = path.join(REPO, 'scripts/system');

export interface SystemCache {
  dir: string;
  vmlinuz: string;
  initramfs: string;
  rootTar: string;
}

function onPath(command: string): boolean {
  return (
    spawnSync('sh', ['-c', 'command -v "$1" || test -x "/usr/sbin/$1" || test -x "/sbin/$1"', 'x', command]).status ===
    0
  );
}

/** Why the system test cannot run here (naming what is missing), or null when it can. */
export function systemMissing(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `needs linux x64 (this is ${process.platform} ${process.arch})`;
  if (process.getuid?.() !== 0) return 'needs root (chroot, a root file system with its owners, mount namespaces)';
  const tools: Record<string, string> = {
    'qemu-system-x86_64': 'qemu-system-x86',
    mmdebstrap: 'mmdebstrap',
    'mkfs.ext4': 'e2fsprogs',
    unshare: 'util-linux',
    chroot: 'coreutils',
    'dpkg-deb': 'dpkg',
    lintian: 'lintian',
    cpio: 'cpio',
    busybox: 'busybox-static',
    modprobe: 'kmod',
    strip: 'binutils',
    'aarch64-linux-gnu-g++': 'g++-aarch64-linux-gnu',
  };
  const missing = Object.entries(tools)
    .filter(([cmd]) => !onPath(cmd))
    .map(([cmd, pkg]) => `${cmd} (Debian package ${pkg})`);
  return missing.length === 0 ? null : `missing ${missing.join(', ')}: scripts/setup.sh installs them`;
}

/** Builds (once) the root, the kernel and the initramfs; prints how long it took when it built anything. */
export function prepareSystem(): SystemCache {
  const r = spawnSync('bash', [path.join(HERE, 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 1_800_000,
  });
  if (r.status !== 0) throw new Error(`scripts/system/build.sh failed (${r.status ?? r.signal})`);
  const dir = r.stdout.trim().split('\n').at(-1) ?? '';
  return {
    dir,
    vmlinuz: path.join(dir, 'vmlinuz'),
    initramfs: path.join(dir, 'initramfs.gz'),
    rootTar: path.join(dir, 'root.tar'),
  };
}

export interface Scenario {
  name: 'fresh' | 'upgrade';
  /** The .deb to install. */
  deb: string;
  /** Puts files into the root before the package is installed (a camera an older release left, say). */
  before?: (root: string) => void;
  timeoutMs: number;
}

export interface ScenarioRun {
  /** The facts the guest printed, by name (the last one wins), with the guest's uptime when it printed each. */
  facts: Map<string, { at: number; value: string }>;
  /** apt's output while installing the package in the chroot. */
  install: string;
  console: string;
  /** Seconds: preparing the image (extract, install, mkfs), booting to the check's end, all. */
  seconds: { image: number; vm: number };
}

function run(command: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${out.slice(-4000)}`);
  return out;
}

const UNIT = `[Unit]
Description=bodycam system test checks
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/bodycam-system-check
StandardOutput=tty
TTYPath=/dev/ttyS0
[Install]
WantedBy=multi-user.target
`;

// Emulated (TCG) machines start Node ~30x slower than a Pi: the units get time to reach READY. Written as drop-ins,
// so the package's own units are what is tested.
const EMULATION = `[Service]
TimeoutStartSec=600
`;

// An ffmpeg that runs normally until /run/bodycam-wedge exists, and from then on hangs (a dead camera).
const WEDGING_FFMPEG = `#!/bin/sh
case " $* " in *" -version "*|*" -encoders "*|*" -formats "*|*" -codecs "*|*" -filters "*) exec /usr/bin/ffmpeg "$@";; esac
if [ -e /run/bodycam-wedge ]; then exec sleep 3600; fi
exec /usr/bin/ffmpeg "$@"
`;

/** Makes the image for a scenario, boots it and collects what the checks printed. */
export async function runScenario(cache: SystemCache, scenario: Scenario): Promise<ScenarioRun> {
  const work = mkdtempSync(path.join(os.tmpdir(), `bodycam-system-${scenario.name}-`));
  const root = path.join(work, 'root');
  const image = path.join(work, 'disk.raw');
  const t0 = Date.now();
  try {
    mkdirSync(root);
    run('tar', ['-xpf', cache.rootTar, '-C', root], 'unpacking the root');
    scenario.before?.(root);
    copyFileSync(scenario.deb, path.join(root, 'root/bodycam.deb'));
    // apt in the chroot, in a mount namespace of its own (proc, sys and dev are seen there only).
    const install = run(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount -t proc proc "$1/proc" && mount -t sysfs sys "$1/sys" && mount --rbind /dev "$1/dev" && chroot "$1" apt-get install -y /root/bodycam.deb',
        'x',
        root,
      ],
      'apt-get install ./bodycam.deb in the chroot',
      { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LANG: 'C.UTF-8' },
    );
    const sbin = path.join(root, 'usr/local/sbin');
    mkdirSync(sbin, { recursive: true });
    copyFileSync(path.join(HERE, 'check.sh'), path.join(sbin, 'bodycam-system-check'));
    run('chmod', ['755', path.join(sbin, 'bodycam-system-check')], 'chmod');
    writeFileSync(path.join(root, 'usr/local/bin/wedging-ffmpeg'), WEDGING_FFMPEG, { mode: 0o755 });
    mkdirSync(path.join(root, 'etc/bodycam-system'), { recursive: true });
    writeFileSync(path.join(root, 'etc/bodycam-system/scenario'), `SCENARIO=${scenario.name}\n`);
    const systemd = path.join(root, 'etc/systemd/system');
    writeFileSync(path.join(systemd, 'bodycam-system-check.service'), UNIT);
    mkdirSync(path.join(systemd, 'multi-user.target.wants'), { recursive: true });
    symlinkSync(
      '../bodycam-system-check.service',
      path.join(systemd, 'multi-user.target.wants/bodycam-system-check.service'),
    );
    for (const unit of ['bodycam.service', 'bodycam-dock.service']) {
      mkdirSync(path.join(systemd, `${unit}.d`), { recursive: true });
      writeFileSync(path.join(systemd, `${unit}.d/emulation.conf`), EMULATION);
    }
    // Nothing to fetch in the guest (it has no network): apt's timers stay off. No login prompt on the serial
    // console either: getty hangs up the terminal when it starts (vhangup), and every later write of the checks to
    // /dev/ttyS0 would fail unseen.
    for (const unit of ['apt-daily.timer', 'apt-daily-upgrade.timer', 'serial-getty@ttyS0.service'])
      symlinkSync('/dev/null', path.join(systemd, unit));
    const size = Number(run('du', ['-sm', root], 'du').split('\t')[0]) + 1500;
    run('mkfs.ext4', ['-q', '-F', '-L', 'bodycam', '-d', root, image, `${size}M`], 'mkfs.ext4 -d');
    rmSync(root, { recursive: true, force: true });
    const imageSeconds = (Date.now() - t0) / 1000;
    const vm = await boot(cache, image, scenario.timeoutMs, path.join(cache.dir, `console-${scenario.name}.log`));
    return { ...vm, install, seconds: { image: imageSeconds, vm: vm.seconds } };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function boot(
  cache: SystemCache,
  image: string,
  timeoutMs: number,
  consoleLog: string,
): Promise<{ facts: ScenarioRun['facts']; console: string; seconds: number }> {
  const args = [
    '-accel',
    'tcg,thread=multi',
    '-machine',
    'q35',
    '-cpu',
    'max',
    '-smp',
    '2',
    '-m',
    '2048',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-serial',
    'stdio',
    '-kernel',
    cache.vmlinuz,
    '-initrd',
    cache.initramfs,
    '-append',
    'console=ttyS0 rdinit=/init panic=-1 loglevel=3 systemd.show_status=0',
    '-drive',
    `file=${image},if=virtio,format=raw,cache=unsafe`,
    '-device',
    'virtio-rng-pci',
  ];
  const started = Date.now();
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // The console also goes to a file as it comes (`tail -f` it to watch a slow boot).
  writeFileSync(consoleLog, '');
  let serial = '';
  const take = (d: Buffer) => {
    serial += d.toString();
    appendFileSync(consoleLog, d);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  clearTimeout(timer);
  const facts: ScenarioRun['facts'] = new Map();
  for (const line of serial.split(/\r?\n/)) {
    const m = /SYSCHECK (\d+(?:\.\d+)?) (\S+) ?(.*)$/.exec(line);
    if (m !== null) facts.set(m[2] ?? '', { at: Number(m[1]), value: m[3] ?? '' });
  }
  return { facts, console: serial, seconds: (Date.now() - started) / 1000 };
}
