/**
 * Who may publish and subscribe to what, as one table: the dock's broker configuration writes its ACL file from it
 * (src/dock/broker-config.ts) and the in-memory broker of the tests enforces it (transport/memory-broker.ts), so
 * both speak the same rules. A client's user name is its certificate's CN: a camera's device id, or the dock agent's
 * `dock`. A rule naming `%u` applies to every client with `%u` replaced by its own user name (a Mosquitto `pattern`);
 * a `dock-agent` rule applies to the agent alone (a Mosquitto `user` + `topic`).
 */
import { TOPIC_ROOT, topicMatches } from './topics.ts';

/** The dock agent's user name: its certificate's CN and its client id; never a camera's device id. */
export const DOCK_AGENT_CN = 'dock';

export type AclAccess = 'publish' | 'subscribe' | 'both';

export interface AclRule {
  /** A topic filter; `%u` is the client's own user name. */
  filter: string;
  who: 'dock-agent' | 'every-client';
  access: AclAccess;
  /** Which way the messages under it go, for people. */
  direction: string;
}

export const ACL: readonly AclRule[] = [
  {
    filter: `${TOPIC_ROOT}/#`,
    who: 'dock-agent',
    access: 'both',
    direction: 'either way: the agent hears and answers',
  },
  { filter: `${TOPIC_ROOT}/cam/%u/up/#`, who: 'every-client', access: 'publish', direction: 'camera → dock' },
  { filter: `${TOPIC_ROOT}/cam/%u/down/#`, who: 'every-client', access: 'subscribe', direction: 'dock → camera' },
  { filter: `${TOPIC_ROOT}/dock/#`, who: 'every-client', access: 'subscribe', direction: 'dock → every camera' },
];

/** A user name that could stretch a `%u` rule over other topics gets no `%u` rights (as Mosquitto 2 does). */
const UNSAFE_USER = /[/+#]/;

/**
 * Whether `user` may publish on `topic` (`publish`) or be sent a message published on it (`subscribe`), by the
 * rules of `acl`. A broker asks this for each message: a subscription to a filter the client may not read is
 * granted, and brings it nothing it may not read.
 */
export function aclAllows(
  user: string,
  topic: string,
  access: 'publish' | 'subscribe',
  acl: readonly AclRule[] = ACL,
): boolean {
  return acl.some((r) => {
    if (r.access !== 'both' && r.access !== access) return false;
    if (r.who === 'dock-agent') return user === DOCK_AGENT_CN && topicMatches(r.filter, topic);
    if (r.filter.includes('%u') && UNSAFE_USER.test(user)) return false;
    return topicMatches(r.filter.replaceAll('%u', user), topic);
  });
}
