/**
 * `bodycam fleet status --broker mqtts://host:port --ca F --cert F --key F`: every camera of every site, from the
 * retained fleet status records at the central broker (src/protocol/fleet-status.ts), what needs attention first
 * (src/protocol/fleet-attention.ts). A record that does not read is named on stderr and in --json, never dropped.
 */
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { type FleetRow, orderFleet } from '../protocol/fleet-attention.ts';
import { type FleetStatus, parseFleetStatus } from '../protocol/fleet-status.ts';
import { CENTRE_FLEET_FILTER, parseCentreFleetTopic } from '../protocol/topics.ts';
import { MqttTransport } from '../protocol/transport/mqtt.ts';

export interface FleetStatusOptions {
  broker: string;
  ca: string;
  cert: string;
  key: string;
  json: boolean;
  /** How long to collect after the subscription is granted (retained records come at once). */
  waitMs: number;
  /** How long to try to connect. */
  connectMs: number;
}

/** `mqtts://host:port` (port 8883 when absent). */
export function parseBrokerUrl(url: string): { host: string; port: number } {
  const m = /^mqtts:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}))?\/?$/.exec(url);
  const port = m?.[2] === undefined ? 8883 : Number(m[2]);
  if (m === null || port < 1 || port > 65535) {
    throw new BodycamError(ErrorCode.USAGE, `--broker ${url}: give mqtts://HOST:PORT (TLS is required)`);
  }
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

export interface Collected {
  records: Array<{ site: string; status: FleetStatus }>;
  invalid: Array<{ topic: string; error: string }>;
}

/** Collects the latest record per camera from messages (a later one replaces an earlier; an empty one clears). */
export function collect(messages: ReadonlyArray<{ topic: string; payload: Buffer }>): Collected {
  const latest = new Map<string, { site: string; status: FleetStatus } | { topic: string; error: string } | null>();
  for (const { topic, payload } of messages) {
    const where = parseCentreFleetTopic(topic);
    if (where === null) continue;
    const id = `${where.site}/${where.device}`;
    if (payload.length === 0) {
      latest.set(id, null);
      continue;
    }
    const r = parseFleetStatus(payload);
    if ('error' in r) latest.set(id, { topic, error: r.error });
    else if (r.ok.device !== where.device) latest.set(id, { topic, error: `names device ${r.ok.device}` });
    else latest.set(id, { site: where.site, status: r.ok });
  }
  const out: Collected = { records: [], invalid: [] };
  for (const v of latest.values()) {
    if (v === null) continue;
    if ('error' in v) out.invalid.push(v);
    else out.records.push(v);
  }
  return out;
}

const ago = (iso: string | null, nowMs: number): string => {
  if (iso === null) return 'never';
  const h = (nowMs - Date.parse(iso)) / 3_600_000;
  return h < 1
    ? `${Math.max(0, Math.round(h * 60))} min ago`
    : h < 48
      ? `${h.toFixed(0)} h ago`
      : `${(h / 24).toFixed(0)} d ago`;
};

/** One camera's line: what needs attention (or "ok"), site/device, then what a fleet manager reads. */
export function fleetLine(r: FleetRow, nowMs: number): string {
  const s = r.status;
  const parts = [
    `release ${s.release ?? '?'}`,
    `battery ${s.battery === null ? '?' : `${s.battery.percent}%`}`,
    `storage ${s.storageMinutesLeft === null ? '?' : `${s.storageMinutesLeft} min`}`,
    s.pending === null
      ? 'pending ?'
      : `pending ${s.pending.segments} segment(s), ${s.pending.closings} closing(s) (said ${ago(s.pending.reportedAt, nowMs)})`,
    `last docking ${ago(s.lastDocking, nowMs)}`,
    `last seen ${ago(s.lastSeen, nowMs)}`,
    `clock ${s.clockOffsetMs === null ? '?' : `${s.clockOffsetMs} ms`}`,
  ];
  if (s.withdrawn !== null) parts.unshift(`WITHDRAWN ${s.withdrawn.at} (${s.withdrawn.reason})`);
  const faults = s.faults.length === 0 ? '' : `; faults: ${s.faults.join('; ')}`;
  const flag = r.attention.length === 0 ? 'ok' : r.attention.join(', ').toUpperCase();
  return `${flag}  ${r.site}/${s.device}: ${parts.join(', ')}${faults}`;
}

/** `bodycam fleet status`. */
export async function fleetStatusCommand(o: FleetStatusOptions): Promise<void> {
  const { host, port } = parseBrokerUrl(o.broker);
  const transport = new MqttTransport({
    host,
    port,
    clientId: `bodycam-fleet-${process.pid}`,
    tls: { ca: o.ca, cert: o.cert, key: o.key },
    connectTimeoutMs: o.connectMs,
  });
  const messages: Array<{ topic: string; payload: Buffer }> = [];
  let lastError = '';
  transport.on('message', (m) => messages.push({ topic: m.topic, payload: m.payload }));
  transport.on('error', (e) => {
    lastError = e.message;
  });
  try {
    const connected = new Promise<void>((resolve) => transport.on('connect', () => resolve()));
    await transport.open();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), o.connectMs).unref());
    if ((await Promise.race([connected, timeout])) === 'timeout') {
      throw new BodycamError(
        ErrorCode.FLEET_UNREACHABLE,
        `no connection to ${o.broker} within ${o.connectMs} ms${lastError === '' ? '' : ` (${lastError})`}`,
      );
    }
    await transport.subscribe([CENTRE_FLEET_FILTER]);
    await new Promise((resolve) => setTimeout(resolve, o.waitMs));
  } finally {
    await transport.close();
  }
  const now = Date.now();
  const { records, invalid } = collect(messages);
  const rows = orderFleet(records, now);
  for (const bad of invalid)
    process.stderr.write(`${bad.topic}: not a fleet status this release reads: ${bad.error}\n`);
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ cameras: rows.map((r) => ({ site: r.site, attention: r.attention, ...r.status })), invalid }, null, 2)}\n`,
    );
    return;
  }
  if (rows.length === 0) process.stdout.write(`no camera status at ${o.broker}\n`);
  for (const r of rows) process.stdout.write(`${fleetLine(r, now)}\n`);
}
