/**
 * The dock broker's configuration as text: mosquitto.conf and its ACL, built by pure functions (tested as text),
 * and how mosquitto is found and invoked.
 *
 * The broker admits only clients with a certificate from the dock site's CA and takes the certificate's CN as the
 * user name; a static pattern ACL then confines each camera to its own topics (docs/design.md §10). The
 * dynamic-security plugin is not used: in Mosquitto 2.0.11 it lets an unknown CN connect and a disabled client keep
 * its rights (eclipse-mosquitto#2999).
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { ACL, type AclAccess, DOCK_AGENT_CN } from '../protocol/acl.ts';
import { MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES } from '../protocol/limits.ts';
import { buildBridgeBlock, type SiteBridgeInput } from './bridge-config.ts';

/** Everything mosquitto.conf depends on. */
export interface BrokerConfigInput {
  port: number;
  /** The listener's address (127.0.0.1 for a test dock; a real dock binds its LAN address). */
  bind: string;
  cafile: string;
  certfile: string;
  keyfile: string;
  /** The revocation list (withdrawn cameras' certificates), checked at every handshake. */
  crlfile: string;
  aclFile: string;
  /**
   * The `user` Mosquitto switches to when started as root (it reads keys, certificates and the ACL after switching);
   * see pki.ts `planKeyAccess`. Ignored by Mosquitto when not started as root.
   */
  user: string;
  /**
   * A bridge to the central fleet broker (bridge-config.ts), with the directory where the broker keeps what waits for
   * it. Then the broker persists (queued status survives its restart) and keeps retained messages (the fleet status
   * is retained; the agent clears any retained message a camera sends, as with an external broker).
   */
  central?: SiteBridgeInput & { persistenceDir: string };
}

const SAFE_VALUE = /^[^\s#"'\\]+$/;

/** Mosquitto's config has no quoting: a value with white space or `#` would be cut or misread. */
function value(name: string, v: string): string {
  if (!SAFE_VALUE.test(v)) {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `mosquitto.conf ${name} "${v}" contains white space, a quote, "\\" or "#", which Mosquitto cannot read; choose a dock directory (--dir) without them`,
      { key: name },
    );
  }
  return v;
}

/**
 * mosquitto.conf for the dock: one TLS listener, client certificates required (CN = user name = client id), no
 * anonymous clients, the static ACL, TLS 1.2 at least, no persistence (MQTT is a transport, never the store: the
 * outbox is in the camera's SQLite) and no retained messages unless bridged to the centre (`central`), no packet larger than the protocol's largest message,
 * logs to stderr (kept by the supervisor). Nothing else: every default left alone is at least as strict.
 */
export function buildMosquittoConf(c: BrokerConfigInput): string {
  const bridged = c.central !== undefined;
  return [
    '# Written by `bodycam dock init`; rewritten by `bodycam dock init --force`.',
    '# Must come first: the settings below apply to every listener.',
    'per_listener_settings false',
    `user ${value('user', c.user)}`,
    'allow_anonymous false',
    ...(c.central === undefined
      ? ['persistence false']
      : [
          '# Status waiting for the central broker survives a restart of this one.',
          'persistence true',
          `persistence_location ${value('persistence_location', c.central.persistenceDir)}`,
        ]),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    `acl_file ${value('acl_file', c.aclFile)}`,
    '# No message of the sync protocol is larger: a client sending a larger packet is disconnected before it is read.',
    `max_packet_size ${MAX_PACKET_BYTES}`,
    `message_size_limit ${MAX_PAYLOAD_BYTES}`,
    ...(bridged
      ? [
          '# The fleet status is retained (only the dock agent may write it); the agent clears any a camera sends.',
          'retain_available true',
        ]
      : [
          '# Nothing is kept for later subscribers: a client that publishes a retained message is disconnected.',
          'retain_available false',
        ]),
    '',
    `listener ${c.port} ${value('bind address', c.bind)}`,
    `cafile ${value('cafile', c.cafile)}`,
    `certfile ${value('certfile', c.certfile)}`,
    `keyfile ${value('keyfile', c.keyfile)}`,
    '# Withdrawn cameras (`bodycam dock withdraw`); re-read on SIGHUP, which `bodycam dock run` sends when it changes.',
    `crlfile ${value('crlfile', c.crlfile)}`,
    'require_certificate true',
    'use_identity_as_username true',
    '# The client id is the certificate name too: nobody can take over (and so disconnect) another client.',
    'use_username_as_clientid true',
    'tls_version tlsv1.2',
    '',
    ...(c.central === undefined ? [] : buildBridgeBlock(c.central)),
  ].join('\n');
}

/** Mosquitto's words for publishing (write) and being sent messages (read). */
const MOSQUITTO_ACCESS: Record<AclAccess, string> = { publish: 'write', subscribe: 'read', both: 'readwrite' };

/**
 * The static ACL, written from the protocol's table (src/protocol/acl.ts): the dock agent (CN `dock`) reads and
 * writes the whole tree; a camera (CN = its device id) writes only its own `up` subtree, reads only its own `down`
 * subtree and the dock's broadcasts. The agent's lines come first, under `user`; then every `pattern` line, which
 * applies to every user. Mosquitto warns that the last pattern has no `%u`; it is a pattern on purpose.
 */
export function buildAcl(): string {
  const agent = ACL.filter((r) => r.who === 'dock-agent');
  const everyone = ACL.filter((r) => r.who === 'every-client');
  return [
    `user ${DOCK_AGENT_CN}`,
    ...agent.map((r) => `topic ${MOSQUITTO_ACCESS[r.access]} ${r.filter}`),
    ...everyone.map((r) => `pattern ${MOSQUITTO_ACCESS[r.access]} ${r.filter}`),
    '',
  ].join('\n');
}

/** Lines of this release's mosquitto.conf that keep one camera from stopping the dock. */
export const HARDENING_LINES = [
  'use_username_as_clientid true',
  'retain_available false',
  `max_packet_size ${MAX_PACKET_BYTES}`,
  `message_size_limit ${MAX_PAYLOAD_BYTES}`,
] as const;

/**
 * Which of HARDENING_LINES a mosquitto.conf (written by an earlier release, or edited) lacks, and `crlfile …` when it
 * names no revocation list (a withdrawn camera's certificate would still be admitted).
 */
export function missingHardening(conf: string): string[] {
  const lines = conf.split('\n').map((l) => l.trim());
  const have = new Set(lines);
  // A site bridged to the centre keeps retained messages on purpose (bridge-config.ts).
  const bridged = lines.some((l) => /^connection\s+\S/.test(l)) && have.has('retain_available true');
  const missing: string[] = HARDENING_LINES.filter((l) => !have.has(l) && !(bridged && l === 'retain_available false'));
  if (!lines.some((l) => /^crlfile\s+\S/.test(l))) missing.push('crlfile …');
  return missing;
}

/** The mosquitto command line for a config file. */
export function mosquittoArgs(confFile: string): string[] {
  return ['-c', confFile];
}

/** Where Debian installs mosquitto, outside an ordinary user's PATH. */
export const DEBIAN_MOSQUITTO = '/usr/sbin/mosquitto';

/** The mosquitto binary: the first on `PATH`, then /usr/sbin/mosquitto; CONFIG_INVALID saying how to install it. */
export function findMosquitto(
  searchPath: string = process.env['PATH'] ?? '',
  isExecutable: (file: string) => boolean = executable,
): string {
  const candidates = [...searchPath.split(path.delimiter).filter((d) => d !== ''), path.dirname(DEBIAN_MOSQUITTO)];
  const found = candidates.map((d) => path.join(d, 'mosquitto')).find(isExecutable);
  if (found !== undefined) return found;
  throw new BodycamError(
    ErrorCode.CONFIG_INVALID,
    `mosquitto is not installed (not on PATH, not ${DEBIAN_MOSQUITTO}); install it with \`apt-get install mosquitto\``,
    { key: 'mosquittoPath' },
  );
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
