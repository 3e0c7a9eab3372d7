/** The `bodycam` command as a technician uses it: exit codes, messages, and keys that the real `age` tool accepts. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, makeSimCamera } from '../harness/daemon.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bodycam-cli-'));

describe('bodycam keygen', () => {
  it('writes an identity that age -d -i accepts and prints its recipient', () => {
    const dir = tmp();
    const key = path.join(dir, 'custodian.key');
    const r = cli(['keygen', '--out', key]);
    expect(r.code).toBe(0);
    const recipient = r.stdout.trim();
    expect(recipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(readFileSync(key, 'utf8')).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/m);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const enc = spawnSync('age', ['-e', '-r', recipient], { input: 'evidence' });
    expect(enc.status).toBe(0);
    const dec = spawnSync('age', ['-d', '-i', key], { input: enc.stdout });
    expect(dec.status).toBe(0);
    expect(dec.stdout.toString()).toBe('evidence');
  });

  it('refuses to overwrite a key (exit 2)', () => {
    const key = path.join(tmp(), 'k');
    expect(cli(['keygen', '--out', key]).code).toBe(0);
    const again = cli(['keygen', '--out', key]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  });
});

describe('bodycam usage', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it.each([
    [['--help']],
    [['keygen', '--help']],
    [['init', '--help']],
    [['config', 'check', '--help']],
    [['run', '--help']],
    [['ctl', '--help']],
    [['ctl', 'status', '--help']],
    [['ctl', 'press', '--help']],
    [['list', '--help']],
  ])('%j exits 0 with usage', (args) => {
    const r = cli(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage:');
  });

  it.each([
    [['frobnicate'], 'unknown command'],
    [['keygen'], "required option '--out <file>'"],
    [['list', '--config'], 'argument missing'],
    [['init', '--dir', '/tmp/x'], "required option '--recipient"],
  ])('%j exits 2', (args, message) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('bodycam init and config check', () => {
  it('init --board sim writes a config that checks ok', () => {
    const cam = makeSimCamera();
    const config = JSON.parse(readFileSync(cam.configFile, 'utf8'));
    expect(config.capture.source).toMatchObject({ kind: 'synthetic', width: 1280, height: 720, fps: 30 });
    expect(config.preRecord.seconds).toBe(30);
    expect(config.gpio.driver).toBe('sim');
    expect(Object.keys(config.gpio.inputs).sort()).toEqual(['dock', 'record', 'silent', 'trigger']);
    const r = cli(['config', 'check', cam.configFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('lists every error by key and exits 2', () => {
    const cam = makeSimCamera();
    const config = JSON.parse(readFileSync(cam.configFile, 'utf8'));
    config.preRecord.seconds = 500; // out of range
    config.recording.segmentSecnds = 30; // unknown key
    config.capture.source.fps = 'thirty'; // wrong type
    config.encryption.recipients = ['age1notarecipient'];
    writeFileSync(cam.configFile, JSON.stringify(config));
    for (const command of [
      ['config', 'check', cam.configFile],
      ['run', '--config', cam.configFile],
    ]) {
      const r = cli(command);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('preRecord.seconds');
      expect(r.stderr).toContain('at most 120');
      expect(r.stderr).toContain('recording.segmentSecnds: unknown key');
      expect(r.stderr).toContain('capture.source.fps');
      expect(r.stderr).toContain('encryption.recipients.0');
      expect(r.stderr).toContain('4 error(s)');
    }
  });

  it('names an unreadable or non-JSON file', () => {
    const dir = tmp();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{ "device": ');
    const r = cli(['config', 'check', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not valid JSON');
    const missing = cli(['config', 'check', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read config file');
  });
});

describe('bodycam run start-up errors', () => {
  it('names a missing ffmpeg and the fix, exits 1, and leaves no crash trace', () => {
    const cam = makeSimCamera((c) => {
      c['capture'].ffmpegPath = '/nonexistent/ffmpeg';
    });
    const r = cli(['run', '--config', cam.configFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ffmpeg not found at /nonexistent/ffmpeg');
    expect(r.stderr).toContain('apt-get install ffmpeg');
    expect(r.stdout).not.toContain('    at ');
  });
});
