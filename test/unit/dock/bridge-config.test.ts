import { describe, expect, it } from 'vitest';
import {
  buildBridgeBlock,
  buildCentralAcl,
  buildCentralConf,
  parseCentralAddress,
} from '../../../src/dock/bridge-config.ts';
import { buildMosquittoConf, missingHardening } from '../../../src/dock/broker-config.ts';
import { ErrorCode, isBodycamError } from '../../../src/lib/errors.ts';
import { downTopic, fleetTopic, topicMatches, upTopic } from '../../../src/protocol/topics.ts';

const BRIDGE = {
  site: 'zone-5339-a',
  host: 'fleet.example',
  port: 8883,
  cafile: '/srv/dock/pki/central-ca.crt',
  certfile: '/srv/dock/pki/central-bridge.crt',
  keyfile: '/srv/dock/pki/central-bridge.key',
};

const DOCK = {
  port: 8883,
  bind: '192.168.1.20',
  cafile: '/srv/dock/pki/ca.crt',
  certfile: '/srv/dock/pki/server.crt',
  keyfile: '/srv/dock/pki/server.key',
  crlfile: '/srv/dock/pki/crl.pem',
  aclFile: '/srv/dock/broker/acl',
  user: 'mosquitto',
};

describe('the site bridge', () => {
  it('is an MQTT 5 TLS bridge with a client certificate, a kept session, and the status pattern only, remapped', () => {
    expect(buildBridgeBlock(BRIDGE)).toEqual([
      '# Fleet status to the centre (`bodycam fleet status`); nothing else crosses.',
      'connection bridge-zone-5339-a',
      'address fleet.example:8883',
      'bridge_protocol_version mqttv50',
      'remote_clientid bridge-zone-5339-a',
      '# The session outlives the connection: what is published while the centre is down waits here.',
      'cleansession false',
      'notifications false',
      'keepalive_interval 30',
      'restart_timeout 1 30',
      'bridge_cafile /srv/dock/pki/central-ca.crt',
      'bridge_certfile /srv/dock/pki/central-bridge.crt',
      'bridge_keyfile /srv/dock/pki/central-bridge.key',
      'bridge_insecure false',
      'bridge_tls_version tlsv1.2',
      'topic fleet/v1/+ out 1 bodycam/ sites/zone-5339-a/',
      '',
    ]);
  });

  it('carries a fleet status topic and no evidence or dock topic (local prefix + pattern)', () => {
    const local = 'bodycam/fleet/v1/+';
    expect(topicMatches(local, fleetTopic('cam-1'))).toBe(true);
    for (const t of [upTopic('cam-1', 'chunk'), upTopic('cam-1', 'inventory'), downTopic('cam-1', 'ack')]) {
      expect(topicMatches(local, t)).toBe(false);
    }
    expect(topicMatches(local, `${fleetTopic('cam-1')}/more`)).toBe(false);
  });

  it.each(['a b', 'a/b', '', '-x', 'a'.repeat(65), '+', '#'])('refuses the site name %j', (site) => {
    expect(() => buildBridgeBlock({ ...BRIDGE, site })).toThrow(/not a site name/);
  });

  it('makes a bridged dock broker persist, keep retained messages, and end with the bridge', () => {
    const conf = buildMosquittoConf({ ...DOCK, central: { ...BRIDGE, persistenceDir: '/srv/dock/broker/state/' } });
    const lines = conf.split('\n');
    expect(lines).toContain('persistence true');
    expect(lines).toContain('persistence_location /srv/dock/broker/state/');
    expect(lines).toContain('retain_available true');
    expect(lines).not.toContain('persistence false');
    expect(lines).not.toContain('retain_available false');
    // The bridge block comes after the listener's settings: Mosquitto reads what follows `connection` as the bridge's.
    expect(lines.indexOf('connection bridge-zone-5339-a')).toBeGreaterThan(lines.indexOf('tls_version tlsv1.2'));
    // A bridged broker keeping retained messages is not a broker that lost its hardening.
    expect(missingHardening(conf)).toEqual([]);
  });

  it('still calls retained messages a missing hardening line on a broker with no bridge', () => {
    const conf = buildMosquittoConf(DOCK).replace('retain_available false', 'retain_available true');
    expect(missingHardening(conf)).toEqual(['retain_available false']);
  });

  it.each([
    ['fleet.example:8883', { host: 'fleet.example', port: 8883 }],
    ['10.0.0.1:1', { host: '10.0.0.1', port: 1 }],
  ])('reads the central address %s', (address, want) => {
    expect(parseCentralAddress(address)).toEqual(want);
  });

  it.each(['fleet.example', 'fleet.example:0', 'fleet.example:70000', 'mqtts://fleet.example:8883', 'a b:1'])(
    'refuses the central address %s',
    (address) => {
      try {
        parseCentralAddress(address);
        expect.unreachable();
      } catch (e) {
        expect(isBodycamError(e) && e.code).toBe(ErrorCode.USAGE);
      }
    },
  );
});

describe('the central broker', () => {
  it('requires client certificates, takes the CN as user inside the listener block, and saves every change', () => {
    const conf = buildCentralConf({
      port: 8883,
      bind: '0.0.0.0',
      cafile: '/etc/mosquitto/fleet/ca.crt',
      certfile: '/etc/mosquitto/fleet/server.crt',
      keyfile: '/etc/mosquitto/fleet/server.key',
      aclFile: '/etc/mosquitto/fleet.acl',
      persistenceDir: '/var/lib/mosquitto/fleet/',
      user: 'mosquitto',
    }).split('\n');
    const listener = conf.indexOf('listener 8883 0.0.0.0');
    expect(listener).toBeGreaterThan(0);
    for (const line of ['require_certificate true', 'use_identity_as_username true', 'use_username_as_clientid true']) {
      expect(conf.indexOf(line)).toBeGreaterThan(listener);
    }
    expect(conf).toEqual(
      expect.arrayContaining([
        'allow_anonymous false',
        'persistence true',
        'persistence_location /var/lib/mosquitto/fleet/',
        'autosave_on_changes true',
        'autosave_interval 1',
        'acl_file /etc/mosquitto/fleet.acl',
      ]),
    );
  });

  it("lets each site's bridge write its own subtree only and each reader read every site", () => {
    expect(buildCentralAcl(['site-a', 'site-b'], ['fleet-reader', 'ops-2'])).toBe(
      [
        'user bridge-site-a',
        'topic write sites/site-a/#',
        'user bridge-site-b',
        'topic write sites/site-b/#',
        'user fleet-reader',
        'topic read sites/#',
        'user ops-2',
        'topic read sites/#',
        '',
      ].join('\n'),
    );
    expect(() => buildCentralAcl(['site/#'])).toThrow(/not a site name/);
  });
});
