/**
 * The dock sync protocol (`bodycam-sync/1`), shared by the camera and the dock: its messages (topics.ts builds and
 * parses the topics, limits.ts holds every size, checks.ts checks every incoming message, acl.ts says who may send
 * what). The transport (transport/port.ts) only carries them; each side keeps its progress in SQLite, so any message
 * may be lost, repeated or come after a reconnect, and a hostile one is refused with a reason, never thrown upward.
 *
 * Messages (`<id>` = the camera's device id = its certificate CN, which the broker's ACL confines it to):
 *   bodycam/cam/<id>/up/hello       camera → dock  JSON  a session starts (docked, connected)
 *   bodycam/cam/<id>/up/inventory   camera → dock  JSON  what is waiting: segments with their signed manifests,
 *                                                         closing manifests, the audit log's head
 *   bodycam/cam/<id>/up/chunk       camera → dock  bytes one piece of a segment; MQTT 5 user properties say which
 *   bodycam/cam/<id>/up/audit       camera → dock  JSON  audit log lines from a sequence number
 *   bodycam/cam/<id>/down/time      dock → camera  JSON  the dock's clock, echoing the hello
 *   bodycam/cam/<id>/down/pull      dock → camera  JSON  send `count` chunks of a segment from `offset`
 *   bodycam/cam/<id>/down/audit-pull dock → camera JSON  send audit lines from `fromSeq`
 *   bodycam/cam/<id>/down/ack       dock → camera  JSON  a receipt signed by the dock: the segment is stored and
 *                                                         verified; only then may the camera delete it
 *   bodycam/cam/<id>/down/refuse    dock → camera  JSON  the segment failed verification: keep it, and why
 *   bodycam/cam/<id>/down/docking   dock → camera  JSON  a docking record signed by the dock (`bodycam-docking/1`):
 *                                                         the chain and audit heads it now holds; the camera keeps it
 *   bodycam/cam/<id>/down/refusals  dock → camera  JSON  offers of one inventory the dock will not take now (each
 *                                                         with why) and how many it did not consider: keep them
 *   bodycam/cam/<id>/down/update    dock → camera  JSON  a signed bundle waits for it (release or config): its kind,
 *                                                         version, size and hash (bundle.ts; checked on the camera)
 *   bodycam/cam/<id>/up/update-pull camera → dock  JSON  send `count` pieces of that bundle from `offset`
 *   bodycam/cam/<id>/down/update-part dock → camera bytes one piece; MQTT 5 user properties say which
 *   bodycam/dock/hello              dock → cameras JSON  `{at}`: the dock (re)started; every camera says hello again
 */

/** The protocol's name and version: a hello naming another is refused. */
export const PROTOCOL = 'bodycam-sync/1';

export interface Hello {
  protocol: typeof PROTOCOL;
  session: string;
  device: string;
  keyId: string;
  release: string;
  /** The camera's monotonic clock (ms) when it sent this: echoed back with the dock's time. */
  sentMono: number;
  /** The camera's battery when it has a fuel gauge: charge (0–100 %) and pack voltage. */
  battery?: { percent: number; volts: number };
  /** Minutes of recording its storage has left beyond the reserve (its last storage check). */
  storageMinutesLeft?: number;
  /** Its clock minus the dock's, ms, as last measured (at the previous exchange of time with a dock). */
  clockOffsetMs?: number;
  /** Faults it knows now (speaker, microphone), each a sentence; for the fleet status. */
  faults?: string[];
  /** What became of the last signed release and config it was given (src/camera/update). */
  updates?: UpdateReport[];
}

export type UpdateKind = 'release' | 'config';
export type UpdateState = 'installing' | 'healthy' | 'rolled-back' | 'refused' | 'deferred';

/** A camera's word on one update: the version it concerns, where it stands and, when it failed, why. */
export interface UpdateReport {
  kind: UpdateKind;
  version: string;
  state: UpdateState;
  reason?: string;
}

/** The dock holds a bundle for this camera: fetch it piece by piece (`update-pull`), then check it. */
export interface UpdateOffer {
  kind: UpdateKind;
  version: string;
  bytes: number;
  /** Of the whole bundle file, for the transfer only: trust comes from the signature inside. */
  sha256: string;
}

export interface UpdatePull {
  kind: UpdateKind;
  version: string;
  offset: number;
  count: number;
}

/** MQTT 5 user properties of an `update-part`. */
export interface UpdatePartHeader {
  kind: UpdateKind;
  version: string;
  offset: number;
}

export interface SegmentOffer {
  incident: string;
  seq: number;
  file: string;
  bytes: number;
  sha256: string;
  /** The segment's signed manifest, as its file holds it (parsed JSON). */
  manifest: unknown;
}

export interface Inventory {
  session: string;
  segments: SegmentOffer[];
  /** Closing manifests of incidents whose segments are offered or already offloaded. */
  incidents: Array<{ incident: string; manifest: unknown }>;
  /** The last sequence number of the camera's audit log (-1 when empty). */
  auditHead: number;
  /**
   * The camera's manifest chain head and audit head (seq and envelope hash; null when empty), so the dock notices a
   * camera that no longer extends what it recorded. Absent from cameras before `bodycam-docking/1`.
   */
  heads?: { chain: ChainHead | null; audit: ChainHead | null };
  /**
   * What the camera holds that the dock has not acknowledged, all of it (the offers above may be fewer): so the dock
   * can say "safe to undock" as the camera does (src/protocol/undock.ts). Absent from cameras before it was added.
   */
  holding?: Holding;
}

/** A camera's own counts for the undock decision. */
export interface Holding {
  /** An incident is being recorded. */
  recording: boolean;
  /** Segments not yet receipted. */
  segments: number;
  /** Closing manifests not yet receipted. */
  closings: number;
  /** Incidents that still owe their closing manifest. */
  open: number;
}

/** The last link of a hash chain: its seq and envelope hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** MQTT 5 user properties of a chunk message. */
export interface ChunkHeader {
  session: string;
  incident: string;
  seq: number;
  offset: number;
  /** Hex SHA-256 of the chunk's bytes. */
  sha256: string;
}

export interface AuditBatch {
  session: string;
  fromSeq: number;
  /** The log's lines from `fromSeq` on, as written (canonical JSON envelopes). */
  lines: string[];
}

export interface DockTime {
  session: string;
  /** The dock's wall clock, ms since the epoch, when it answered. */
  dockWallMs: number;
  echoMono: number;
}

export interface Pull {
  session: string;
  incident: string;
  seq: number;
  offset: number;
  count: number;
}

export interface AuditPull {
  session: string;
  fromSeq: number;
}

export interface Refusal {
  session: string;
  incident: string;
  seq: number;
  code: string;
  message: string;
}

/** The offers of one inventory the dock refused, in one message; every one stays on the camera. */
export interface Refusals {
  session: string;
  segments: Array<{ incident: string; seq: number; code: string; message: string }>;
  /** Offers past the dock's per-inventory budget, not looked at: offer them again later. */
  notConsidered: number;
}
