/**
 * The dock agent: the dock's side of the sync protocol (src/protocol/messages.ts). It drives every transfer: for
 * each camera that says hello it takes the inventory, pulls segments oldest first, a window of chunks at a time,
 * into an incoming file whose durable length it records in SQLite; checks the whole segment against the camera's
 * signed manifest and chain; stores segment and manifest; and only then sends a receipt it signs, which alone lets
 * the camera delete. A segment that fails is refused, reported and left on the camera. Then closing manifests and the
 * audit log. A lost connection or a broker restart resumes from the durable length.
 */
import type { KeyObject } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { manifestFileText } from '../../evidence/manifest.ts';
import { signReceipt } from '../../evidence/receipt.ts';
import { sha256OfFile, unlinkIfPresent } from '../../lib/fs.ts';
import type { Logger } from '../../lib/logger.ts';
import { checkAuditBatch, checkChunkHeader, checkHello, checkInventory } from '../../protocol/checks.ts';
import { downTopic, parseTopic, type SegmentOffer } from '../../protocol/messages.ts';
import { AuditIntake } from './audit-intake.ts';
import type { EvidenceStore } from './evidence-store.ts';
import type { Progress } from './progress.ts';
import { Transfer, type TransferItem } from './transfer.ts';
import { checkClosing, checkReceived, checkSegmentOffer } from './verify-offer.ts';

export interface DockIdentity {
  privateKey: KeyObject;
  keyId: string;
}

export interface AgentOptions {
  client: MqttClient;
  progress: Progress;
  store: EvidenceStore;
  incomingDir: string;
  /** The enrolled cameras' public signing keys (and their PEM, copied into the store). */
  deviceKey: (device: string) => { key: KeyObject; pem: string; keyId: string } | null;
  dock: DockIdentity;
  logger: Logger;
  onProgress?: (device: string, line: string) => void;
  wallNow?: () => number;
  /** How often an incoming segment is made durable (default CHECKPOINT_BYTES, 16 MiB). */
  checkpointBytes?: number;
}

interface Session {
  id: string;
  device: string;
  queue: TransferItem[];
  closings: Map<string, unknown>;
  auditHead: number;
  /** Transfers under way, oldest first: the next starts once every chunk of the last has been asked for. */
  active: Transfer[];
  work: Promise<void>;
}

export class DockAgent {
  readonly #o: AgentOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #audit: AuditIntake;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#audit = new AuditIntake(options.progress, options.store, options.logger);
  }

  async start(): Promise<void> {
    const { client } = this.#o;
    const announce = () =>
      client.subscribe('bodycam/cam/+/up/#', { qos: 1 }, () =>
        client.publish('bodycam/dock/hello', JSON.stringify({ at: this.#now() }), { qos: 1 }),
      );
    client.on('connect', announce);
    if (client.connected) announce();
    client.on('message', (topic, payload, packet) =>
      this.#onMessage(topic, payload, packet.properties?.userProperties),
    );
  }

  async stop(): Promise<void> {
    for (const s of this.#sessions.values()) {
      await s.work;
      for (const t of s.active) await t.close();
    }
    await this.#o.client.endAsync().catch(() => undefined);
  }

  #now(): number {
    return (this.#o.wallNow ?? Date.now)();
  }

  #onMessage(topic: string, payload: Buffer, props: Record<string, string | string[]> | undefined): void {
    const t = parseTopic(topic);
    if (t === null || t.dir !== 'up') return;
    const key = this.#o.deviceKey(t.device);
    if (key === null) {
      this.#o.logger.warn({ device: t.device }, 'a camera that is not enrolled here: ignored');
      return;
    }
    if (t.type === 'hello') {
      const m = checkHello(payload);
      if ('error' in m || m.ok.device !== t.device) {
        this.#refuseMessage(t.device, topic, 'error' in m ? m.error : 'device differs from the topic');
        return;
      }
      if (m.ok.keyId !== key.keyId) {
        this.#o.logger.error(
          { device: t.device, offered: m.ok.keyId, enrolled: key.keyId },
          'a camera with another signing key than enrolled: nothing taken',
        );
        return;
      }
      if (m.ok.battery !== undefined)
        this.#o.logger.info({ device: t.device, battery: m.ok.battery }, 'camera battery');
      const old = this.#sessions.get(t.device);
      const session: Session = {
        id: m.ok.session,
        device: t.device,
        queue: [],
        closings: new Map(),
        auditHead: -1,
        active: [],
        work: old?.work ?? Promise.resolve(),
      };
      this.#sessions.set(t.device, session);
      this.#serially(session, async () => {
        for (const t of old?.active ?? []) await t.close();
        this.#o.progress.seen(t.device);
        await this.#o.store.putDeviceKey(t.device, key.pem);
        this.#send(t.device, 'time', { session: session.id, dockWallMs: this.#now(), echoMono: m.ok.sentMono });
      });
      return;
    }
    const session = this.#sessions.get(t.device);
    if (session === undefined) return;
    switch (t.type) {
      case 'inventory': {
        const m = checkInventory(payload);
        if ('error' in m || m.ok.session !== session.id) {
          this.#refuseMessage(t.device, topic, 'error' in m ? m.error : 'another session');
          return;
        }
        this.#serially(session, () => this.#onInventory(session, m.ok, key.key));
        return;
      }
      case 'chunk': {
        const h = checkChunkHeader(props);
        if ('error' in h) {
          this.#refuseMessage(t.device, topic, h.error);
          return;
        }
        if (h.ok.session !== session.id) return;
        this.#serially(session, async () => {
          const t = session.active.find(
            (a) => a.item.offer.incident === h.ok.incident && a.item.offer.seq === h.ok.seq,
          );
          if ((await t?.chunk(h.ok, payload)) === 'complete' && t !== undefined) await this.#finish(session, t);
        });
        return;
      }
      case 'audit': {
        const m = checkAuditBatch(payload);
        if ('error' in m || m.ok.session !== session.id) {
          this.#refuseMessage(t.device, topic, 'error' in m ? m.error : 'another session');
          return;
        }
        this.#serially(session, async () => {
          const more = await this.#audit.take(t.device, key.key, m.ok);
          if (more)
            this.#send(t.device, 'audit-pull', {
              session: session.id,
              fromSeq: this.#o.progress.auditHead(t.device).seq + 1,
            });
        });
        return;
      }
      default:
        this.#refuseMessage(t.device, topic, `unknown message type ${t.type}`);
    }
  }

  #serially(s: Session, op: () => Promise<void>): void {
    s.work = s.work
      .then(op)
      .catch((e: unknown) => this.#o.logger.error({ err: e, device: s.device }, 'dock sync step failed'));
  }

  #refuseMessage(device: string, topic: string, reason: string): void {
    this.#o.logger.warn({ device, topic, reason }, 'a camera message was refused');
  }

  #send(device: string, type: Parameters<typeof downTopic>[1], body: unknown): void {
    this.#o.client.publish(downTopic(device, type), JSON.stringify(body), { qos: 1 });
  }

  async #onInventory(
    s: Session,
    inv: ReturnType<typeof checkInventory> extends infer R ? (R extends { ok: infer T } ? T : never) : never,
    key: KeyObject,
  ): Promise<void> {
    s.queue = [];
    s.closings = new Map(inv.incidents.map((i) => [i.incident, i.manifest]));
    s.auditHead = inv.auditHead;
    const offers = [...inv.segments].sort((a, b) => a.incident.localeCompare(b.incident) || a.seq - b.seq);
    for (const offer of offers) {
      const v = checkSegmentOffer(s.device, key, offer);
      if ('code' in v) {
        this.#refuse(s, offer, v.code, v.message);
        continue;
      }
      const row = this.#o.progress.transfer(s.device, offer.incident, offer.seq);
      if (row?.state === 'stored' && row.sha256 === offer.sha256) {
        this.#receipt(s, offer, v.ok.hash); // the camera missed our receipt: send it again, move nothing
        continue;
      }
      s.queue.push({ offer, hash: v.ok.hash, env: v.ok.env });
    }
    if (s.active.length === 0) await this.#pump(s);
  }

  /** Starts transfers while the last one has asked for everything (two at most); when all are done, the rest. */
  async #pump(s: Session): Promise<void> {
    while (s.queue.length > 0 && s.active.length < 2 && (s.active.at(-1)?.allRequested ?? true)) {
      const item = s.queue.shift();
      if (item === undefined) break;
      const t = await this.#begin(s, item);
      s.active.push(t);
      if (t.complete) await this.#finish(s, t);
    }
    if (s.queue.length === 0 && s.active.length === 0) {
      await this.#closings(s);
      if (s.auditHead > this.#o.progress.auditHead(s.device).seq) {
        this.#send(s.device, 'audit-pull', { session: s.id, fromSeq: this.#o.progress.auditHead(s.device).seq + 1 });
      }
    }
  }

  async #begin(s: Session, item: TransferItem): Promise<Transfer> {
    const { offer } = item;
    const row = this.#o.progress.begin({
      device: s.device,
      incident: offer.incident,
      seq: offer.seq,
      file: offer.file,
      bytes: offer.bytes,
      sha256: offer.sha256,
      chainSeq: item.env.payload.chainSeq,
      manifestHash: item.hash,
    });
    const dir = path.join(this.#o.incomingDir, s.device);
    await mkdir(dir, { recursive: true });
    return Transfer.open({
      file: path.join(dir, `${offer.incident}-${offer.file}.part`),
      offer,
      row,
      progress: this.#o.progress,
      pull: (offset, count) =>
        this.#send(s.device, 'pull', { session: s.id, incident: offer.incident, seq: offer.seq, offset, count }),
      item,
      onAllRequested: () => this.#serially(s, () => this.#pump(s)),
      ...(this.#o.checkpointBytes === undefined ? {} : { checkpointBytes: this.#o.checkpointBytes }),
      ...(this.#o.onProgress === undefined
        ? {}
        : { onProgress: (line: string) => this.#o.onProgress?.(s.device, line) }),
    });
  }

  async #finish(s: Session, t: Transfer): Promise<void> {
    s.active = s.active.filter((a) => a !== t);
    const { offer, hash, env } = t.item;
    await t.close();
    const actual = t.digest() ?? (await sha256OfFile(t.file));
    const previous = this.#o.progress.storedByChainSeq(s.device, env.payload.chainSeq - 1)?.manifestHash ?? undefined;
    const v = checkReceived(env, actual, previous);
    if ('code' in v) {
      await unlinkIfPresent(t.file);
      this.#refuse(s, offer, v.code, v.message);
    } else {
      await this.#o.store.putSegment(s.device, offer.incident, offer.file, t.file, manifestFileText(env));
      this.#o.progress.finish(s.device, offer.incident, offer.seq, 'stored', null);
      this.#o.logger.info(
        { device: s.device, incident: offer.incident, seq: offer.seq, bytes: offer.bytes },
        'segment stored and verified',
      );
      this.#receipt(s, offer, hash);
    }
    await this.#pump(s);
  }

  #receipt(s: Session, offer: SegmentOffer, manifestHash: string): void {
    const env = signReceipt(
      {
        kind: 'segment',
        device: s.device,
        incident: offer.incident,
        seq: offer.seq,
        file: offer.file,
        sha256: offer.sha256,
        bytes: offer.bytes,
        manifest: manifestHash,
        storedAt: new Date(this.#now()).toISOString(),
      },
      this.#o.dock.privateKey,
      this.#o.dock.keyId,
    );
    this.#send(s.device, 'ack', env);
  }

  #refuse(s: Session, offer: SegmentOffer, code: string, message: string): void {
    const row = this.#o.progress.transfer(s.device, offer.incident, offer.seq);
    if (row === undefined) {
      this.#o.progress.begin({
        device: s.device,
        incident: offer.incident,
        seq: offer.seq,
        file: offer.file,
        bytes: offer.bytes,
        sha256: offer.sha256,
        chainSeq: null,
        manifestHash: null,
      });
    }
    this.#o.progress.finish(s.device, offer.incident, offer.seq, 'refused', `${code}: ${message}`);
    this.#o.logger.error(
      { device: s.device, incident: offer.incident, seq: offer.seq, code, message },
      'segment refused: it stays on the camera',
    );
    this.#o.onProgress?.(s.device, `REFUSED ${offer.incident}/${offer.file}: ${code}`);
    this.#send(s.device, 'refuse', { session: s.id, incident: offer.incident, seq: offer.seq, code, message });
  }

  /** Closing manifests of incidents whose every listed segment the dock now holds. */
  async #closings(s: Session): Promise<void> {
    const key = this.#o.deviceKey(s.device);
    if (key === null) return;
    for (const [incident, manifest] of s.closings) {
      const v = checkClosing(s.device, key.key, incident, manifest);
      if ('code' in v) {
        this.#o.logger.error({ device: s.device, incident, ...v }, 'closing manifest refused');
        continue;
      }
      const complete = v.ok.env.payload.segments.every((seg) => {
        const row = this.#o.progress.transfer(s.device, incident, seg.seq);
        return row?.state === 'stored' && row.manifestHash === seg.manifest;
      });
      if (!complete) continue;
      if (this.#o.progress.incidentStored(s.device, incident) !== v.ok.hash) {
        await this.#o.store.putClosing(s.device, incident, manifestFileText(v.ok.env));
        this.#o.progress.storeIncident(s.device, incident, v.ok.hash);
      }
      const env = signReceipt(
        {
          kind: 'incident',
          device: s.device,
          incident,
          seq: v.ok.env.payload.segments.length,
          file: 'incident.manifest.json',
          sha256: v.ok.hash,
          bytes: 0,
          manifest: v.ok.hash,
          storedAt: new Date(this.#now()).toISOString(),
        },
        this.#o.dock.privateKey,
        this.#o.dock.keyId,
      );
      this.#send(s.device, 'ack', env);
    }
  }
}
