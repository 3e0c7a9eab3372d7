import { describe, expect, it } from 'vitest';
import {
  buildAcl,
  buildMosquittoConf,
  DEBIAN_MOSQUITTO,
  findMosquitto,
  missingHardening,
  mosquittoArgs,
} from '../../../src/dock/broker-config.ts';
import { ErrorCode, isBodycamError } from '../../../src/lib/errors.ts';
import { MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES } from '../../../src/protocol/limits.ts';

const INPUT = {
  port: 8883,
  bind: '192.168.1.20',
  cafile: '/srv/dock/pki/ca.crt',
  certfile: '/srv/dock/pki/server.crt',
  keyfile: '/srv/dock/pki/server.key',
  crlfile: '/srv/dock/pki/crl.pem',
  aclFile: '/srv/dock/broker/acl',
  user: 'mosquitto',
};

describe('mosquitto.conf', () => {
  it('is one TLS listener with client certificates as identities, the ACL, and nothing weaker', () => {
    expect(buildMosquittoConf(INPUT)).toBe(
      [
        '# Written by `bodycam dock init`; rewritten by `bodycam dock init --force`.',
        '# Must come first: the settings below apply to every listener.',
        'per_listener_settings false',
        'user mosquitto',
        'allow_anonymous false',
        'persistence false',
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        'connection_messages true',
        'acl_file /srv/dock/broker/acl',
        '# No message of the sync protocol is larger: a client sending a larger packet is disconnected before it is read.',
        `max_packet_size ${MAX_PACKET_BYTES}`,
        `message_size_limit ${MAX_PAYLOAD_BYTES}`,
        '# Nothing is kept for later subscribers: a client that publishes a retained message is disconnected.',
        'retain_available false',
        '',
        'listener 8883 192.168.1.20',
        'cafile /srv/dock/pki/ca.crt',
        'certfile /srv/dock/pki/server.crt',
        'keyfile /srv/dock/pki/server.key',
        '# Withdrawn cameras (`bodycam dock withdraw`); re-read on SIGHUP, which `bodycam dock run` sends when it changes.',
        'crlfile /srv/dock/pki/crl.pem',
        'require_certificate true',
        'use_identity_as_username true',
        '# The client id is the certificate name too: nobody can take over (and so disconnect) another client.',
        'use_username_as_clientid true',
        'tls_version tlsv1.2',
        '',
      ].join('\n'),
    );
  });

  it('holds every hardening line; one written by an earlier release is told apart', () => {
    expect(missingHardening(buildMosquittoConf(INPUT))).toEqual([]);
    const old = buildMosquittoConf(INPUT)
      .split('\n')
      .filter((l) => !/^(use_username_as_clientid|retain_available|max_packet_size|crlfile)/.test(l))
      .join('\n');
    expect(missingHardening(old)).toEqual([
      'use_username_as_clientid true',
      'retain_available false',
      `max_packet_size ${MAX_PACKET_BYTES}`,
      'crlfile …',
    ]);
  });

  it('names per_listener_settings before any listener (Mosquitto requires it first)', () => {
    const lines = buildMosquittoConf(INPUT)
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines[0]).toBe('per_listener_settings false');
  });

  it.each([
    ['a path with a space', { cafile: '/srv/my dock/pki/ca.crt' }, 'cafile'],
    ['a path with #', { aclFile: '/srv/dock#1/broker/acl' }, 'acl_file'],
    ['a user with a quote', { user: 'mos"quitto' }, 'user'],
    ['a revocation list path with a tab', { crlfile: '/srv/dock/pki/crl\t.pem' }, 'crlfile'],
  ])('refuses %s, which Mosquitto would misread', (_name, patch, key) => {
    let error: unknown;
    try {
      buildMosquittoConf({ ...INPUT, ...patch });
    } catch (e) {
      error = e;
    }
    expect(isBodycamError(error, ErrorCode.CONFIG_INVALID)).toBe(true);
    expect((error as Error).message).toContain(key);
  });
});

describe('ACL', () => {
  it('gives the dock the whole tree and each camera its own up (write) and down (read) and the broadcasts', () => {
    expect(buildAcl()).toBe(
      [
        'user dock',
        'topic readwrite bodycam/#',
        'pattern write bodycam/cam/%u/up/#',
        'pattern read bodycam/cam/%u/down/#',
        'pattern read bodycam/dock/#',
        '',
      ].join('\n'),
    );
  });
});

describe('mosquitto binary', () => {
  it('runs with the config file', () => {
    expect(mosquittoArgs('/srv/dock/broker/mosquitto.conf')).toEqual(['-c', '/srv/dock/broker/mosquitto.conf']);
  });

  it('is found on PATH first, then in /usr/sbin', () => {
    const there = new Set(['/opt/mq/bin/mosquitto', DEBIAN_MOSQUITTO]);
    expect(findMosquitto('/usr/bin:/opt/mq/bin', (f) => there.has(f))).toBe('/opt/mq/bin/mosquitto');
    expect(findMosquitto('/usr/bin:/bin', (f) => f === DEBIAN_MOSQUITTO)).toBe(DEBIAN_MOSQUITTO);
  });

  it('says how to install it when it is nowhere', () => {
    expect(() => findMosquitto('/usr/bin', () => false)).toThrow(/apt-get install mosquitto/);
  });
});
