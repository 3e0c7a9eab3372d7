import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  blockedDir,
  caCertArgs,
  genKeyArgs,
  getentArgs,
  leafCertArgs,
  Openssl,
  parsePasswd,
  planKeyAccess,
  randomSerial,
  serverAltNames,
  writeProtected,
} from '../../../src/dock/pki.ts';
import { ScriptedProcesses } from '../../../src/hal/process/scripted.ts';
import { errnoCode, isBodycamError } from '../../../src/lib/errors.ts';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bodycam-pki-'));
const ISSUER = { caCert: '/d/pki/ca.crt', caKey: '/d/pki/ca.key' };

describe('openssl argument lists', () => {
  it('makes P-256 keys on stdout', () => {
    expect(genKeyArgs()).toEqual(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  });

  it('makes a 10-year CA certificate with only the CA extensions', () => {
    // biome-ignore format: option and value pairs side by side
    expect(caCertArgs({ keyFile: '/d/pki/ca.key', serial: '0x42' })).toEqual([
      'req', '-new', '-x509', '-config', '/dev/null', '-key', '/d/pki/ca.key', '-sha256', '-days', '3650',
      '-subj', '/CN=bodycam dock CA', '-set_serial', '0x42',
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', 'subjectKeyIdentifier=hash',
    ]);
  });

  it('signs a server certificate for serverAuth with its names', () => {
    const args = leafCertArgs(ISSUER, {
      cn: 'dock.local',
      keyFile: '/d/pki/server.key',
      serial: '0x43',
      usage: 'serverAuth',
      altNames: serverAltNames('dock.local'),
    });
    // biome-ignore format: option and value pairs side by side
    expect(args).toEqual([
      'req', '-new', '-x509', '-config', '/dev/null', '-key', '/d/pki/server.key',
      '-CA', '/d/pki/ca.crt', '-CAkey', '/d/pki/ca.key', '-sha256', '-days', '1825',
      '-subj', '/CN=dock.local', '-set_serial', '0x43',
      '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'keyUsage=critical,digitalSignature',
      '-addext', 'extendedKeyUsage=serverAuth',
      '-addext', 'subjectKeyIdentifier=hash',
      '-addext', 'authorityKeyIdentifier=keyid:always',
      '-addext', 'subjectAltName=DNS:dock.local,DNS:localhost,IP:127.0.0.1',
    ]);
  });

  it('signs a client certificate (CN = identity) for clientAuth, without names', () => {
    const args = leafCertArgs(ISSUER, {
      cn: 'cam-7',
      keyFile: '/c/dock/client.key',
      serial: '0x44',
      usage: 'clientAuth',
    });
    expect(args).toContain('/CN=cam-7');
    expect(args).toContain('extendedKeyUsage=clientAuth');
    expect(args.some((a) => a.startsWith('subjectAltName'))).toBe(false);
    expect(args.slice(args.indexOf('-key'), args.indexOf('-key') + 2)).toEqual(['-key', '/c/dock/client.key']);
  });

  it.each([
    ['localhost', 'DNS:localhost,IP:127.0.0.1'],
    ['dock-3.zone.example', 'DNS:dock-3.zone.example,DNS:localhost,IP:127.0.0.1'],
    ['192.168.1.20', 'IP:192.168.1.20,DNS:localhost,IP:127.0.0.1'],
    ['127.0.0.1', 'IP:127.0.0.1,DNS:localhost'],
  ])('server names for host %s: %s', (host, names) => {
    expect(serverAltNames(host)).toBe(names);
  });

  it('makes positive 128-bit serials, each new', () => {
    const a = randomSerial();
    expect(a).toMatch(/^0x[4-7][0-9a-f]{31}$/);
    expect(randomSerial()).not.toBe(a);
  });
});

describe('who may read the broker files', () => {
  it.each([
    [
      'root with a mosquitto account: its group, 0640/0750',
      { uid: 0, user: 'root', mosquitto: { uid: 102, gid: 105 } },
      { brokerUser: 'mosquitto', gid: 105, fileMode: 0o640, dirMode: 0o750 },
    ],
    [
      'an ordinary user: owner only, and the broker runs as that user',
      { uid: 1000, user: 'alice', mosquitto: { uid: 102, gid: 105 } },
      { brokerUser: 'alice', gid: undefined, fileMode: 0o600, dirMode: 0o700 },
    ],
    [
      'an ordinary user without a mosquitto account',
      { uid: 1000, user: 'alice', mosquitto: undefined },
      { brokerUser: 'alice', gid: undefined, fileMode: 0o600, dirMode: 0o700 },
    ],
  ])('%s', (_name, facts, plan) => {
    expect(planKeyAccess(facts)).toEqual(plan);
  });

  it('refuses root without a mosquitto account rather than run the broker as root or open the key', () => {
    expect(() => planKeyAccess({ uid: 0, user: 'root', mosquitto: undefined })).toThrow(/apt-get install mosquitto/);
  });

  it('reads the account from getent passwd', () => {
    expect(getentArgs('mosquitto')).toEqual(['passwd', 'mosquitto']);
    expect(parsePasswd('mosquitto:x:102:105::/var/lib/mosquitto:/usr/sbin/nologin\n')).toEqual({ uid: 102, gid: 105 });
    expect(parsePasswd('')).toBeUndefined();
    expect(parsePasswd('mosquitto:x:abc:105::/:/bin/false')).toBeUndefined();
  });

  it.each([
    ['a world-enterable chain', [0o755, 0o711, 0o755], undefined],
    ['a private parent (mkdtemp)', [0o755, 0o700, 0o750], 1],
    ['a parent only its group (not mosquitto) may enter', [0o755, 0o750, 0o750], 1],
  ])('finds the directory the broker cannot enter: %s', (_name, modes, blocked) => {
    const chain = modes.map((mode, i) => ({ path: `/d${i}`, uid: 0, gid: i === 2 ? 105 : 0, mode: 0o40000 | mode }));
    expect(blockedDir(chain, { uid: 102, gid: 105 })?.path).toBe(blocked === undefined ? undefined : `/d${blocked}`);
  });

  it('lets the owner through on its owner bits', () => {
    const chain = [{ path: '/own', uid: 102, gid: 0, mode: 0o700 }];
    expect(blockedDir(chain, { uid: 102, gid: 105 })).toBeUndefined();
  });
});

describe('writing keys', () => {
  it('creates a key with its mode before writing it, and never overwrites one', async () => {
    const file = path.join(tmp(), 'k.key');
    await writeProtected(file, 'secret', { mode: 0o600 }, true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await writeProtected(file, 'other', { mode: 0o600 }, true).catch((e: unknown) => e);
    expect(errnoCode(again)).toBe('EEXIST');
    expect(readFileSync(file, 'utf8')).toBe('secret');
  });

  it('replaces a certificate through a temporary file, with the asked mode', async () => {
    const file = path.join(tmp(), 'c.crt');
    writeFileSync(file, 'old', { mode: 0o666 });
    await writeProtected(file, 'new', { mode: 0o640 }, false);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });
});

describe('the openssl runner', () => {
  it('writes a new key from openssl stdout at mode 0600', async () => {
    const runner = new ScriptedProcesses().define('openssl', (call) => {
      call.stdout('-----BEGIN PRIVATE KEY-----\n');
      call.exit(0);
    });
    const file = path.join(tmp(), 'server.key');
    await new Openssl(runner).newKey(file, { mode: 0o600 });
    expect(runner.calls.map((c) => c.args)).toEqual([genKeyArgs()]);
    expect(readFileSync(file, 'utf8')).toBe('-----BEGIN PRIVATE KEY-----\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('quotes openssl stderr when it fails, and writes nothing', async () => {
    const runner = new ScriptedProcesses().define('openssl', (call) => {
      call.stderr('Could not open file or uri for loading CA private key from /d/pki/ca.key\n');
      call.exit(1);
    });
    const e = await new Openssl(runner)
      .leafCert(ISSUER, { cn: 'x', keyFile: '/k', usage: 'clientAuth' })
      .catch((x: unknown) => x);
    expect(isBodycamError(e)).toBe(true);
    expect((e as Error).message).toMatch(/failed \(exit 1\): Could not open file .*ca\.key/);
  });

  it('says how to install openssl when it is missing', async () => {
    const e = await new Openssl(new ScriptedProcesses()).caCert('/k').catch((x: unknown) => x);
    expect((e as Error).message).toContain('apt-get install openssl');
  });
});
