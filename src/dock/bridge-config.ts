/**
 * The fleet status bridge (docs/dock-operations.md, "Bridging a site to the centre"): the `connection` block a site's
 * Mosquitto gets when dock.json has a `central` section, and the central Mosquitto's configuration and ACL. Pure
 * functions, tested as text; written for Mosquitto 2.0.11 (Debian 12).
 *
 * Only the status pattern crosses (topics.ts `fleetBridgeTopic`: local `bodycam/fleet/v1/+` out, QoS 1, remote
 * `sites/<site>/fleet/v1/+`); no evidence topic matches it. The bridge logs in with a client certificate whose CN is
 * `bridge-<site>`; the centre takes the CN as the user name (`use_identity_as_username`, inside the listener block)
 * and its ACL lets that user write `sites/<site>/#` only. `cleansession false` keeps the bridge's local session, so
 * status published while the centre is down waits in the site broker (up to max_queued_messages, 1000 by default;
 * the dock publishes every record again every 10 minutes anyway) and leaves when the centre is back.
 */
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { CENTRE_READ_FILTER, centreSiteFilter, fleetBridgeTopic, SITE_NAME } from '../protocol/topics.ts';

/** The site broker's side of the bridge. */
export interface SiteBridgeInput {
  site: string;
  /** The central broker: host name or address (in its certificate) and port. */
  host: string;
  port: number;
  /** The centre's CA, and this site's bridge certificate (CN `bridge-<site>`) and key. */
  cafile: string;
  certfile: string;
  keyfile: string;
}

/** The CN of a site's bridge certificate, which is its user name at the centre. */
export const bridgeCn = (site: string) => `bridge-${site}`;

/** The CN a fleet reader (`bodycam fleet status`) presents by default. */
export const FLEET_READER_CN = 'fleet-reader';

/** Why `site` cannot name a site, or undefined when it can. */
export function siteProblem(site: string): string | undefined {
  return SITE_NAME.test(site) ? undefined : `"${site}" is not a site name (letters, digits, "-" and "_", at most 64)`;
}

/** `host:port` of a central broker, checked. */
export function parseCentralAddress(address: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(address);
  const port = Number(m?.[2]);
  if (m === null || port < 1 || port > 65535) {
    throw new BodycamError(
      ErrorCode.USAGE,
      `"${address}" is not host:port (the central broker, e.g. fleet.example:8883)`,
    );
  }
  return { host: m[1] ?? '', port };
}

const SAFE_VALUE = /^[^\s#"'\\]+$/;

function value(name: string, v: string): string {
  if (!SAFE_VALUE.test(v)) {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `mosquitto.conf ${name} "${v}" contains white space, a quote, "\\" or "#", which Mosquitto cannot read`,
      { key: name },
    );
  }
  return v;
}

/** The `connection` block (it goes last in mosquitto.conf: every line after it belongs to the bridge). */
export function buildBridgeBlock(b: SiteBridgeInput): string[] {
  const problem = siteProblem(b.site);
  if (problem !== undefined) throw new BodycamError(ErrorCode.CONFIG_INVALID, problem, { key: 'central.site' });
  const t = fleetBridgeTopic(b.site);
  return [
    '# Fleet status to the centre (`bodycam fleet status`); nothing else crosses.',
    `connection ${bridgeCn(b.site)}`,
    `address ${value('address', b.host)}:${b.port}`,
    'bridge_protocol_version mqttv50',
    `remote_clientid ${bridgeCn(b.site)}`,
    '# The session outlives the connection: what is published while the centre is down waits here.',
    'cleansession false',
    'notifications false',
    'keepalive_interval 30',
    'restart_timeout 1 30',
    `bridge_cafile ${value('bridge_cafile', b.cafile)}`,
    `bridge_certfile ${value('bridge_certfile', b.certfile)}`,
    `bridge_keyfile ${value('bridge_keyfile', b.keyfile)}`,
    'bridge_insecure false',
    'bridge_tls_version tlsv1.2',
    `topic ${t.pattern} out 1 ${t.localPrefix} ${t.remotePrefix}`,
    '',
  ];
}

/** Everything the central broker's mosquitto.conf depends on. */
export interface CentralBrokerInput {
  port: number;
  bind: string;
  /** The centre's CA (it issued the sites' bridge certificates and the readers'), its server certificate and key. */
  cafile: string;
  certfile: string;
  keyfile: string;
  aclFile: string;
  /** Where it keeps retained status across restarts (a directory, ending in `/`). */
  persistenceDir: string;
  /** The account it switches to when started as root (it must read the key and write the persistence directory). */
  user: string;
}

/**
 * The central broker: one TLS listener, client certificates required, the CN as user name (inside the listener
 * block, as Mosquitto 2.0.11 reads it), the static ACL, and persistence saved after every change (status changes
 * are rare; a kill then loses none of what it acknowledged).
 */
export function buildCentralConf(c: CentralBrokerInput): string {
  return [
    '# The central fleet status broker: site brokers bridge `sites/<site>/fleet/v1/<device>` here.',
    'per_listener_settings false',
    `user ${value('user', c.user)}`,
    'allow_anonymous false',
    'persistence true',
    `persistence_location ${value('persistence_location', c.persistenceDir)}`,
    'autosave_on_changes true',
    'autosave_interval 1',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    `acl_file ${value('acl_file', c.aclFile)}`,
    '',
    `listener ${c.port} ${value('bind address', c.bind)}`,
    `cafile ${value('cafile', c.cafile)}`,
    `certfile ${value('certfile', c.certfile)}`,
    `keyfile ${value('keyfile', c.keyfile)}`,
    'require_certificate true',
    'use_identity_as_username true',
    'use_username_as_clientid true',
    'tls_version tlsv1.2',
    '',
  ].join('\n');
}

/** The central ACL: each site's bridge writes its own `sites/<site>/#` only; each reader reads `sites/#`. */
export function buildCentralAcl(sites: readonly string[], readers: readonly string[] = [FLEET_READER_CN]): string {
  const lines: string[] = [];
  for (const site of sites) {
    const problem = siteProblem(site);
    if (problem !== undefined) throw new BodycamError(ErrorCode.USAGE, problem);
    lines.push(`user ${bridgeCn(site)}`, `topic write ${centreSiteFilter(site)}`);
  }
  for (const reader of readers) lines.push(`user ${value('reader', reader)}`, `topic read ${CENTRE_READ_FILTER}`);
  return `${lines.join('\n')}\n`;
}
