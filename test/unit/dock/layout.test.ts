import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bindProblem,
  deviceFiles,
  dockLayout,
  hostProblem,
  loadDockConfig,
  parseDockConfig,
} from '../../../src/dock/layout.ts';
import { ErrorCode, isBodycamError } from '../../../src/lib/errors.ts';

const VALID = {
  version: 1,
  host: 'dock-3.zone.example',
  port: 8883,
  bind: '192.168.1.20',
  broker: 'managed',
  mosquittoPath: '/usr/sbin/mosquitto',
};

/** The budgets a dock.json without a `limits` section gets. */
/** The operator's page: on, loopback only, port 8470. */
const DEFAULT_PAGE = { enabled: true, listen: '127.0.0.1', port: 8470 };
const DEFAULT_LIMITS = {
  maxOffersPerInventory: 1000,
  maxInFlightMiB: 64,
  maxSegmentMiB: 4096,
  cameraQuotaMiB: 262_144,
  minFreeMiB: 4096,
  partialMaxAgeHours: 72,
};

function problemsOf(doc: unknown): { key: string; message: string }[] {
  try {
    parseDockConfig(doc, '/srv/dock/dock.json');
  } catch (e) {
    if (isBodycamError(e, ErrorCode.CONFIG_INVALID)) return e.details['problems'] as { key: string; message: string }[];
    throw e;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('dock directory layout', () => {
  it('names every file under the dock directory', () => {
    const l = dockLayout('/srv/dock');
    expect(l).toEqual({
      dir: '/srv/dock',
      config: '/srv/dock/dock.json',
      pki: {
        dir: '/srv/dock/pki',
        caKey: '/srv/dock/pki/ca.key',
        caCert: '/srv/dock/pki/ca.crt',
        serverKey: '/srv/dock/pki/server.key',
        serverCert: '/srv/dock/pki/server.crt',
        agentKey: '/srv/dock/pki/dock-agent.key',
        agentCert: '/srv/dock/pki/dock-agent.crt',
        crl: '/srv/dock/pki/crl.pem',
        withdrawals: '/srv/dock/pki/withdrawals.jsonl',
        centralCa: '/srv/dock/pki/central-ca.crt',
        centralCert: '/srv/dock/pki/central-bridge.crt',
        centralKey: '/srv/dock/pki/central-bridge.key',
      },
      broker: {
        dir: '/srv/dock/broker',
        conf: '/srv/dock/broker/mosquitto.conf',
        acl: '/srv/dock/broker/acl',
        state: '/srv/dock/broker/state/',
      },
      identity: { dir: '/srv/dock/identity', key: '/srv/dock/identity/dock.key', pub: '/srv/dock/identity/dock.pub' },
      devicesDir: '/srv/dock/devices',
      withdrawnDir: '/srv/dock/withdrawn',
      evidenceDir: '/srv/dock/evidence',
      incomingDir: '/srv/dock/incoming',
      stagingDir: '/srv/dock/staging',
      database: '/srv/dock/dock.sqlite',
      releases: {
        dir: '/srv/dock/releases',
        wanted: '/srv/dock/releases/wanted.json',
        reports: '/srv/dock/releases/reports.json',
      },
    });
    expect(deviceFiles('/srv/dock', 'cam-7')).toEqual({
      dir: '/srv/dock/devices/cam-7',
      pub: '/srv/dock/devices/cam-7/device.pub',
      cert: '/srv/dock/devices/cam-7/client.crt',
    });
  });

  it('resolves a relative dock directory', () => {
    expect(dockLayout('dock').dir).toBe(path.resolve('dock'));
  });
});

describe('dock.json validation', () => {
  it('accepts a valid dock.json and fills the bind address and every limit and the (filesystem) store', () => {
    expect(parseDockConfig(VALID, 'dock.json')).toEqual({
      ...VALID,
      limits: DEFAULT_LIMITS,
      store: { kind: 'filesystem' },
      page: DEFAULT_PAGE,
    });
    const { bind: _, ...noBind } = VALID;
    expect(parseDockConfig(noBind, 'dock.json').bind).toBe('127.0.0.1');
    const tuned = parseDockConfig({ ...VALID, limits: { cameraQuotaMiB: 2048 } }, 'dock.json');
    expect(tuned.limits).toEqual({ ...DEFAULT_LIMITS, cameraQuotaMiB: 2048 });
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['more offers than the protocol sends', { maxOffersPerInventory: 1001 }, 'maxOffersPerInventory', /at most 1000/],
    ['less in flight than an honest camera sends', { maxInFlightMiB: 8 }, 'maxInFlightMiB', /at least 29/],
    ['a segment cap over the protocol bound', { maxSegmentMiB: 65_537 }, 'maxSegmentMiB', /at most 65536/],
    ['a quota of nothing', { cameraQuotaMiB: 0 }, 'cameraQuotaMiB', /at least 1/],
    ['a negative floor', { minFreeMiB: -1 }, 'minFreeMiB', /at least 0/],
    ['a fractional age', { partialMaxAgeHours: 1.5 }, 'partialMaxAgeHours', /whole number/],
    ['an unknown limit', { maxCameras: 3 }, 'maxCameras', /unknown key/],
  ])('names the limit of %s', (_name, limits, key, message) => {
    expect(problemsOf({ ...VALID, limits })).toEqual([
      { key: `limits.${key}`, message: expect.stringMatching(message) },
    ]);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['a port out of range', { port: 70000 }, 'port', /at most 65535/],
    ['a port as text', { port: '8883' }, 'port', /expected number/],
    ['an unknown broker kind', { broker: 'cloud' }, 'broker', /"managed", "external"/],
    ['a host with a space', { host: 'dock 3' }, 'host', /DNS name/],
    ['a bind address that is a name', { bind: 'eth0' }, 'bind', /not an IP address/],
    ['a page address that is a name', { page: { listen: 'station.local' } }, 'page.listen', /not an IP address/],
    ['a page port out of range', { page: { port: 65536 } }, 'page.port', /at most 65535/],
    ['a page switched off with text', { page: { enabled: 'no' } }, 'page.enabled', /expected boolean/],
    ['a newer version', { version: 2 }, 'version', /reads version 1/],
    ['an unknown key', { tls: true }, 'tls', /unknown key/],
    ['no mosquitto path', { mosquittoPath: '' }, 'mosquittoPath', /empty/],
    [
      'a central site name with a slash',
      { central: { address: 'fleet.example:8883', site: 'a/b' } },
      'central.site',
      /letters, digits/,
    ],
    ['a central section without an address', { central: { site: 'zone-a' } }, 'central.address', /required/],
  ])('names the key of %s', (_name, patch, key, message) => {
    const problems = problemsOf({ ...VALID, ...patch });
    expect(problems).toEqual([{ key, message: expect.stringMatching(message) }]);
  });

  it('takes a central section (the fleet status bridge)', () => {
    const central = { address: 'fleet.example:8883', site: 'zone-5339-a' };
    expect(parseDockConfig({ ...VALID, central }, 'dock.json').central).toEqual(central);
    expect(parseDockConfig(VALID, 'dock.json').central).toBeUndefined();
  });

  it('lists every problem at once and says how to fix the file', () => {
    let message = '';
    try {
      parseDockConfig({ version: 1, port: 0 }, '/srv/dock/dock.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('/srv/dock/dock.json has 4 error(s)');
    for (const key of ['host', 'port', 'broker', 'mosquittoPath']) expect(message).toContain(`  ${key}: `);
    expect(message).toContain('bodycam dock init --force');
  });

  it('reads DOCKDIR/dock.json; a missing one says how to make it, bad JSON is CONFIG_INVALID', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-layout-'));
    expect(() => loadDockConfig(dir)).toThrow(/bodycam dock init --dir/);
    try {
      loadDockConfig(dir);
    } catch (e) {
      expect(isBodycamError(e, ErrorCode.CONFIG_UNREADABLE)).toBe(true);
    }
    writeFileSync(path.join(dir, 'dock.json'), '{"version": 1,');
    expect(() => loadDockConfig(dir)).toThrow(/not valid JSON/);
    writeFileSync(path.join(dir, 'dock.json'), JSON.stringify(VALID));
    expect(loadDockConfig(dir)).toEqual({
      ...VALID,
      limits: DEFAULT_LIMITS,
      store: { kind: 'filesystem' },
      page: DEFAULT_PAGE,
    });
    mkdirSync(path.join(dir, 'sub'));
    expect(() => loadDockConfig(path.join(dir, 'sub'))).toThrow(/is .* a dock directory/);
  });

  it.each([
    ['localhost', true],
    ['dock-3.zone.example', true],
    ['10.0.0.5', true],
    ['::1', true],
    ['-dock', false],
    ['dock_3', false],
    ['a/b', false],
    ['', false],
  ])('host %j usable: %s', (host, ok) => {
    expect(hostProblem(host) === undefined).toBe(ok);
  });

  it.each([
    ['127.0.0.1', true],
    ['0.0.0.0', true],
    ['fe80::1', true],
    ['localhost', false],
  ])('bind %j usable: %s', (bind, ok) => {
    expect(bindProblem(bind) === undefined).toBe(ok);
  });
});
