/**
 * The arm64 system: Debian's arm64 kernel and a Debian arm64 root (scripts/arm64/system.sh) booted to multi-user
 * under `qemu-system-aarch64` (TCG, the `virt` machine), systemd as init, the root read-only over 9p under a tmpfs
 * overlay. A one-shot unit runs a command once the system is up and powers off; the arm64 build is at /opt/arm64,
 * the checkout at /repo (read-only), and $LAB_OUT (/lab-out) carries results back. Slow: behind
 * BODYCAM_ARM64_SYSTEM=1 (which .ci/run sets).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface Arm64System {
  root: string;
  kernel: string;
  modules: string;
  initrd: string;
  kernelVersion: string;
  /** Host directory shared as /opt/arm64 (the arm64 cache: app/, node-vX/). */
  arm64: string;
  /** Guest paths of the application and of the arm64 Node. */
  app: string;
  node: string;
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1" || test -x "/usr/sbin/$1"', 'x', command]).status === 0;
}

/** Why the arm64 system cannot run here (the switch unset, or what is missing), or null. */
export function arm64SystemMissing(): string | null {
  if (process.env['BODYCAM_ARM64_SYSTEM'] !== '1')
    return 'BODYCAM_ARM64_SYSTEM=1 not set (a long run: .ci/run sets it)';
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'needs a linux x64 host';
  const tools: Record<string, string> = {
    'qemu-system-aarch64': 'qemu-system-arm',
    mmdebstrap: 'mmdebstrap',
    'arch-test': 'arch-test',
    'aarch64-linux-gnu-gcc-12': 'gcc-aarch64-linux-gnu',
    'qemu-aarch64-static': 'qemu-user-static',
    cpio: 'cpio',
  };
  const missing = Object.entries(tools)
    .filter(([cmd]) => !onPath(cmd))
    .map(([cmd, pkg]) => `${cmd} (Debian package ${pkg})`);
  if (!existsSync('/usr/src/linux-source-6.1.tar.xz')) missing.push('linux-source-6.1');
  return missing.length === 0 ? null : `missing ${missing.join(', ')}: scripts/setup.sh installs them`;
}

let prepared: Arm64System | null = null;

export function prepareArm64System(): Arm64System {
  if (prepared !== null) return prepared;
  const r = spawnSync('bash', [path.join(REPO, 'scripts/arm64/system.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 1_800_000,
  });
  if (r.status !== 0) throw new Error(`scripts/arm64/system.sh failed (${r.status ?? r.signal})`);
  prepared = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Arm64System;
  return prepared;
}

export interface SystemRun {
  code: number;
  output: string;
  console: string;
  outDir: string;
  seconds: number;
  kernelVersion: string;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Boots the system, runs `command` (sh, in `cwd`, as root, once multi-user is reached) and powers off. */
export async function runInArm64System(o: {
  command: string;
  outDir?: string;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<SystemRun> {
  const sys = prepareArm64System();
  const outDir = o.outDir ?? mkdtempSync(path.join(os.tmpdir(), 'bodycam-arm64-'));
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    LAB_OUT: '/lab-out',
    LAB_CWD: o.cwd ?? '/repo',
    LAB_NODE: sys.node,
    LAB_BODYCAM: `${sys.app}/dist/cli/bodycam.js`,
    ...o.env,
  };
  writeFileSync(
    path.join(outDir, 'env.sh'),
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${quote(v)}\n`)
      .join(''),
  );
  writeFileSync(path.join(outDir, 'command.sh'), `${o.command}\n`);
  const share = (dir: string, tag: string, ro: boolean) => [
    '-virtfs',
    `local,path=${dir},mount_tag=${tag},security_model=none,multidevs=remap${ro ? ',readonly=on' : ''}`,
  ];
  const args = [
    '-machine',
    'virt',
    '-cpu',
    'cortex-a72',
    '-smp',
    '2',
    '-m',
    '2048',
    '-accel',
    'tcg,thread=multi',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-serial',
    'stdio',
    '-kernel',
    sys.kernel,
    '-initrd',
    sys.initrd,
    '-append',
    'console=ttyAMA0 loglevel=4 panic=-1 rdinit=/init systemd.show_status=false',
    '-device',
    'virtio-rng-pci',
    ...share(sys.root, 'hostroot', true),
    ...share(sys.modules, 'modules', true),
    ...share(sys.arm64, 'arm64', true),
    ...share(REPO, 'repo', true),
    ...share(outDir, 'labout', false),
  ];
  const started = Date.now();
  const child = spawn('qemu-system-aarch64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let serial = '';
  child.stdout.on('data', (d: Buffer) => {
    serial += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    serial += d.toString();
  });
  const timeoutMs = o.timeoutMs ?? 900_000;
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
      `the arm64 system gave no exit code (${why})\n--- console ---\n${serial.slice(-5000)}\n--- output ---\n${output.slice(-4000)}`,
    );
  }
  const code = Number(readFileSync(codeFile, 'utf8').trim());
  return { code, output, console: serial, outDir, seconds, kernelVersion: sys.kernelVersion };
}
