/**
 * Every topic of the sync protocol, built and parsed here and nowhere else (a test fails on a topic string
 * anywhere else in src). `<id>` is the camera's device id, which is its certificate's CN, to which the broker's ACL
 * (acl.ts) confines it:
 *
 *   bodycam/cam/<id>/up/<type>     camera → dock   hello, inventory, chunk, audit, update-pull
 *   bodycam/cam/<id>/down/<type>   dock → camera   time, pull, audit-pull, ack, refuse, refusals, docking, update,
 *                                                  update-part (a camera reads only its own: acl.ts)
 *   bodycam/dock/hello             dock → every camera: the dock (re)started
 */

/** The root of the protocol's topic tree. */
export const TOPIC_ROOT = 'bodycam';

export type UpType = 'hello' | 'inventory' | 'chunk' | 'audit' | 'update-pull';
export type DownType =
  | 'time'
  | 'pull'
  | 'audit-pull'
  | 'ack'
  | 'refuse'
  | 'refusals'
  | 'docking'
  | 'update'
  | 'update-part';

export const upTopic = (device: string, type: UpType) => `${TOPIC_ROOT}/cam/${device}/up/${type}`;
export const downTopic = (device: string, type: DownType) => `${TOPIC_ROOT}/cam/${device}/down/${type}`;

/** The dock's announcement to every camera that it (re)started: they say hello again. */
export const DOCK_HELLO_TOPIC = `${TOPIC_ROOT}/dock/hello`;

/** What the dock agent subscribes to: every camera's `up` messages. */
export const DOCK_SUBSCRIPTIONS: readonly string[] = [`${TOPIC_ROOT}/cam/+/up/#`];

/** Every message the dock sends one camera. */
export const downFilter = (device: string) => `${TOPIC_ROOT}/cam/${device}/down/#`;

/** What a camera subscribes to: its own `down` messages and the dock's broadcasts. */
export function cameraSubscriptions(device: string): string[] {
  return [downFilter(device), `${TOPIC_ROOT}/dock/#`];
}

/** The device id and message type of a camera topic, or null for one that is not ours. */
export function parseTopic(topic: string): { device: string; dir: 'up' | 'down'; type: string } | null {
  const m = /^bodycam\/cam\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/(up|down)\/([a-z-]{1,20})$/.exec(topic);
  if (m === null) return null;
  return { device: m[1] ?? '', dir: m[2] as 'up' | 'down', type: m[3] ?? '' };
}

/**
 * Whether `topic` matches the subscription (or ACL) filter `filter`: `+` is one level, `#` (last) the rest, as
 * MQTT has it; a filter with `#` matches its parent level too (`a/#` matches `a`).
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i === f.length - 1;
    if (i >= t.length || (level !== '+' && level !== t[i])) return false;
  }
  return f.length === t.length;
}

/**
 * Fleet status (src/protocol/fleet-status.ts): the dock publishes one retained record per camera on
 * `bodycam/fleet/v1/<id>`. Cameras may neither publish nor read it (acl.ts gives them no rule there). A site's
 * broker bridges exactly this pattern, and nothing else, to the central broker, where it is `sites/<site>/fleet/v1/<id>`.
 */
export const fleetTopic = (device: string) => `${TOPIC_ROOT}/fleet/v1/${device}`;

/** A site's name at the centre (the bridge's remote prefix): letters, digits, "-" and "_", at most 64. */
export const SITE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The site bridge's `topic` line: local `bodycam/fleet/v1/+` leaves, QoS 1, as `sites/<site>/fleet/v1/+`. */
export function fleetBridgeTopic(site: string): { pattern: string; localPrefix: string; remotePrefix: string } {
  return { pattern: 'fleet/v1/+', localPrefix: `${TOPIC_ROOT}/`, remotePrefix: `sites/${site}/` };
}

/** What `bodycam fleet status` subscribes to at the centre: every camera of every site. */
export const CENTRE_FLEET_FILTER = 'sites/+/fleet/v1/+';

/** At the centre: what a site's bridge may write (`sites/<site>/#`), and what a fleet reader may read. */
export const centreSiteFilter = (site: string) => `sites/${site}/#`;
export const CENTRE_READ_FILTER = 'sites/#';

/** The site and device of a fleet status topic at the centre, or null for another topic. */
export function parseCentreFleetTopic(topic: string): { site: string; device: string } | null {
  const m = /^sites\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/fleet\/v1\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})$/.exec(topic);
  if (m === null) return null;
  return { site: m[1] ?? '', device: m[2] ?? '' };
}
