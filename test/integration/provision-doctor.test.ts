/** A technician's two commands: `provision` for each real board, and `doctor` on this machine and on a sim camera. */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor/index.ts';
import { lookupAccount } from '../../src/cli/service-user.ts';
import { cli, makeSimCamera } from '../harness/daemon.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bodycam-provision-'));
let recipient = '';

beforeAll(() => {
  const r = cli(['keygen', '--out', path.join(tmp(), 'custodian.key')]);
  expect(r.code).toBe(0);
  recipient = r.stdout.trim();
});

/** `bodycam provision` for `board` into `dir` and `storage`, device id z5-BOARD. */
const provisionArgs = (board: string, dir: string, storage: string) => [
  'provision',
  '--board',
  board,
  '--device-id',
  `z5-${board}`,
  '--recipient',
  recipient,
  '--dir',
  dir,
  '--storage',
  storage,
];

function provision(board: string, extra: string[] = []) {
  const root = tmp();
  const dir = path.join(root, 'etc');
  const storage = path.join(root, 'var');
  const r = cli([...provisionArgs(board, dir, storage), ...extra]);
  return { r, dir, storage, configFile: path.join(dir, 'config.json') };
}

interface Report {
  ok: boolean;
  board: string;
  checks: Array<{ id: string; status: string; detail: string; fix?: string }>;
}

function doctor(configFile: string): { code: number; report: Report } {
  const r = cli(['doctor', '--config', configFile, '--json']);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

const status = (report: Report, id: string) => report.checks.filter((c) => c.id === id).map((c) => c.status);

describe('bodycam provision', () => {
  it.each([
    ['pi4', 'v4l2', 'h264_v4l2m2m', 'onoff'],
    ['cm4', 'v4l2', 'h264_v4l2m2m', 'onoff'],
    ['zero2w', 'rpicam', undefined, 'onoff'],
    ['pi5', 'rpicam', undefined, 'gpiox'],
  ])(
    '%s: a config that config check accepts, keys 0600, storage, boot lines and wiring',
    (board, kind, encoder, gpio) => {
      const { r, dir, storage, configFile } = provision(board);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`provisioned z5-${board} for ${board}`);
      const check = cli(['config', 'check', configFile]);
      expect(check.code).toBe(0);
      const config = JSON.parse(readFileSync(configFile, 'utf8'));
      expect(config.device).toEqual({ id: `z5-${board}`, board });
      expect(config.capture.source.kind).toBe(kind);
      if (encoder !== undefined) expect(config.capture.source.encoder).toBe(encoder);
      expect(config.capture.source.alsaDevice).toMatch(/^plughw:/);
      expect(config.gpio.driver).toBe(gpio);
      expect(config.audio.driver).toBe('alsa');
      expect(config.storage.dir).toBe(storage);
      expect(statSync(path.join(dir, 'identity', 'device.key')).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(dir, 'identity')).mode & 0o777).toBe(0o700);
      expect(statSync(storage).mode & 0o777).toBe(0o700);
      for (const lang of ['nl', 'fr', 'de'])
        expect(existsSync(path.join(dir, 'prompts', `warning-${lang}.wav`))).toBe(true);
      expect(readFileSync(path.join(dir, 'config.txt.add'), 'utf8')).toContain('gpio=26=ip,pd');
      expect(readFileSync(path.join(dir, 'WIRING.txt'), 'utf8')).toMatch(/record\s+BCM 5 \(pin 29\)/);
    },
  );

  it('takes the languages given, and keeps the identity when the config is rewritten', () => {
    const first = provision('pi4', ['--languages', 'fr,nl']);
    expect(first.r.code).toBe(0);
    expect(JSON.parse(readFileSync(first.configFile, 'utf8')).warning.languages).toEqual(['fr', 'nl']);
    const key = readFileSync(path.join(first.dir, 'identity', 'device.key'));
    const again = cli(provisionArgs('pi4', first.dir, first.storage));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    const forced = cli([...provisionArgs('pi4', first.dir, first.storage), '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(first.dir, 'identity', 'device.key'))).toEqual(key);
  });

  it.each([
    [['--board', 'pi9'], /--board pi9: no such board profile; choose one of cm4, pi4, pi5, sim, zero2w/],
    [['--device-id', 'cam/17'], /--device-id "cam\/17": use letters, digits/],
    [['--device-id', 'dock'], /--device-id "dock": use .*not "dock"/],
    [['--device-id', 'DocK'], /--device-id "DocK": use .*not "dock"/],
    [['--recipient', 'age1qqqq'], /--recipient age1qqqq: .*not valid bech32/],
    [['--recipient', 'AGE-SECRET-KEY-1QQQ'], /--recipient \[redacted\]: .*secret identity/],
    [['--languages', 'nl,xx'], /--languages nl,xx: use a comma-separated list of nl, fr, de, en/],
    [['--storage', 'relative/dir'], /--storage relative\/dir: give an absolute path/],
  ])('refuses %j with exit 2, naming the value and the fix, and writes nothing', (bad, message) => {
    const dir = path.join(tmp(), 'etc');
    const base: Record<string, string> = {
      '--board': 'pi4',
      '--device-id': 'cam17',
      '--recipient': recipient,
      '--dir': dir,
      '--storage': path.join(tmp(), 'var'),
    };
    base[bad[0] as string] = bad[1] as string;
    const r = cli(['provision', ...Object.entries(base).flat()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('bodycam provision against a local user', () => {
  it('never writes through a symbolic link planted in its directory', () => {
    const root = tmp();
    const dir = path.join(root, 'etc');
    mkdirSync(dir);
    const victim = path.join(root, 'victim');
    writeFileSync(victim, 'precious\n');
    for (const name of ['config.json', 'WIRING.txt']) {
      const where = path.join(dir, name);
      symlinkSync(victim, where);
      const r = cli([...provisionArgs('pi4', dir, path.join(root, 'var')), '--force']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${where} is a symbolic link: refusing to write through it`);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      rmSync(where);
    }
    const fresh = path.join(root, 'etc2');
    mkdirSync(path.join(fresh, 'identity'), { recursive: true, mode: 0o700 });
    symlinkSync(victim, path.join(fresh, 'identity', 'device.key'));
    const key = cli(provisionArgs('pi4', fresh, path.join(root, 'var')));
    expect(key.code).toBe(2);
    expect(key.stderr).toMatch(/device\.key is not a regular file/);
    expect(statSync(victim).mode & 0o777).not.toBe(0o600);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('refuses a directory others can write to, or a symlinked identity directory', () => {
    const root = tmp();
    const shared = path.join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const r = cli(provisionArgs('pi4', shared, path.join(root, 'var')));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${shared} is writable by others (mode 777)`);
    expect(existsSync(path.join(shared, 'config.json'))).toBe(false);
    const dir = path.join(root, 'etc');
    mkdirSync(dir);
    const elsewhere = path.join(root, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, path.join(dir, 'identity'));
    const linked = cli(provisionArgs('pi4', dir, path.join(root, 'var')));
    expect(linked.code).toBe(2);
    expect(linked.stderr).toContain(`${path.join(dir, 'identity')} is a symbolic link or not a directory`);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe('bodycam doctor', () => {
  it('passes every check of a sim camera (exit 0), warnings allowed', () => {
    const cam = makeSimCamera();
    const { code, report } = doctor(cam.configFile);
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(code).toBe(0);
    for (const id of [
      'config',
      'ffmpeg',
      'encoder',
      'camera',
      'microphone',
      'speaker',
      'prompts',
      'gpio',
      'space',
      'write',
      'keys',
    ]) {
      expect(status(report, id), id).toEqual(['pass']);
    }
    const human = cli(['doctor', '--config', cam.configFile]);
    expect(human.stdout).toMatch(/^\s+PASS\s+camera\s+synthetic test pattern 1280x720/m);
    expect(human.stdout).toMatch(/0 failed, \d+ warnings?, \d+ passed/);
  });

  it.skipIf(existsSync('/dev/video0') || existsSync('/sys/class/gpio/export'))(
    'on this machine, names each missing piece of a Pi 4 with its fix and exits 1 (skipped where a camera or GPIO exists)',
    () => {
      const { configFile } = provision('pi4');
      const { code, report } = doctor(configFile);
      expect(code).toBe(1);
      expect(report.ok).toBe(false);
      for (const id of ['camera', 'gpio', 'microphone', 'speaker', 'encoder'])
        expect(status(report, id), id).toEqual(['fail']);
      const camera = report.checks.find((c) => c.id === 'camera');
      expect(camera?.detail).toBe('no V4L2 camera at /dev/video0');
      expect(camera?.fix).toContain('connect the camera');
      expect(report.checks.find((c) => c.id === 'gpio')?.detail).toContain('/sys/class/gpio/export');
      for (const c of report.checks.filter((c) => c.status !== 'pass')) expect(c.fix, c.id).toBeTruthy();
      expect(status(report, 'ffmpeg')).toEqual(['pass']);
      expect(status(report, 'keys')).toEqual(['pass']);
    },
  );

  it('fails a signing key others can read, and an age identity left on the camera', () => {
    const cam = makeSimCamera();
    const key = path.join(cam.dir, 'identity', 'device.key');
    chmodSync(key, 0o644);
    copyFileSync(cam.identityFile, path.join(cam.dir, 'custodian.key'));
    const { code, report } = doctor(cam.configFile);
    expect(code).toBe(1);
    const keys = report.checks.filter((c) => c.id === 'keys');
    expect(keys.map((k) => k.status)).toEqual(['fail', 'fail']);
    expect(keys[0]?.detail).toContain('readable by others (mode 644)');
    expect(keys[1]?.detail).toContain('custodian.key holds an age identity');
  });

  it('points a camera without a config to provision, naming the boards', () => {
    const missing = path.join(tmp(), 'etc', 'config.json');
    const { code, report } = doctor(missing);
    expect(code).toBe(1);
    expect(report.checks).toEqual([
      {
        id: 'config',
        status: 'fail',
        detail: `${missing} does not exist: this camera is not provisioned`,
        fix: `bodycam provision --board BOARD --device-id ID --recipient age1… --dir ${path.dirname(missing)} (boards: cm4, pi4, pi5, sim, zero2w)`,
      },
    ]);
  });

  it('reports a config that does not load as a failed check (exit 1)', () => {
    const cam = makeSimCamera((c) => {
      c['preRecord'].seconds = 9999;
    });
    const { code, report } = doctor(cam.configFile);
    expect(code).toBe(1);
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]?.detail).toContain('preRecord.seconds');
  });
});

describe.skipIf(process.getuid?.() !== 0)('doctor and upgrade for the service user (run as root)', () => {
  it('checks the key as the service user would read it, and upgrade gives the user its key and storage', async () => {
    // `nobody` stands in for the package's `bodycam` user, which this machine does not have.
    const account = lookupAccount('nobody');
    expect(account).not.toBeNull();
    // The sim's file speaker writes beside the config, which no camera user may: no speaker here (a warning).
    const cam = makeSimCamera((c) => {
      c['audio'] = { driver: 'none' };
    });
    chmodSync(path.dirname(cam.dir), 0o755);
    const keyFile = path.join(cam.dir, 'identity', 'device.key');
    const before = await runDoctor(cam.configFile, { account });
    expect(before.checkedAs).toBe('nobody');
    const keys = before.checks.find((c) => c.id === 'keys');
    // Root reads the key; the camera's user does not: that is what doctor must see.
    expect(keys?.status).toBe('fail');
    expect(keys?.detail).toBe(
      `nobody cannot enter ${path.dirname(keyFile)} (owner uid 0, group gid 0, mode 700): the camera cannot sign its evidence`,
    );
    expect(keys?.fix).toContain(`bodycam upgrade --config ${cam.configFile}`);
    expect(before.checks.filter((c) => c.id === 'storage').map((c) => c.status)).toContain('fail');

    const upgrade = cli(['upgrade', '--config', cam.configFile, '--user', 'nobody']);
    expect(upgrade.stderr).toBe('');
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain(`owner     ${keyFile}: nobody's, mode 600 (only it reads the signing key)`);
    for (const [file, mode] of [
      [keyFile, 0o600],
      [path.dirname(keyFile), 0o700],
      [path.join(cam.dir, 'storage'), 0o700],
    ] as const) {
      const st = statSync(file);
      expect([file, st.uid, st.mode & 0o777]).toEqual([file, account?.uid, mode]);
    }
    const after = await runDoctor(cam.configFile, { account, writeTestBytes: 1 << 20 });
    expect(after.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(after.checks.find((c) => c.id === 'keys')?.detail).toMatch(/read by the service user nobody\)$/);
  });
});
