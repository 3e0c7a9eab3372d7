/**
 * The storage reserve and the thresholds in recording time (docs/design.md §18), as pure functions tested as
 * tables. The reserve is the part of the card that footage never takes: it holds what must always fit after the
 * footage filled the rest (the receipts of an offload, the index's growth and its write-ahead log, audit lines, the
 * manifests still to be signed, closing the open segment, start-ups and dockings with their signed docking records),
 * so a full camera always starts,
 * docks, stores its receipts, frees what the dock holds and records again.
 */
import { SEALED_CHUNK_SIZE } from '../../age/sealer.ts';
import type { SourceConfig } from '../../config/schema.ts';
import type { StorageLevel } from '../events.ts';
import { AUDIO_KBPS } from '../media/sources.ts';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * What one item costs on the card, from measurements on the sim camera (a receipt ~1 KB, a segment manifest ~1.1 KB,
 * a closing manifest ~2.2 KB, an audit line 500–800 bytes, the index ~1 row per segment and a few per incident),
 * rounded up with room to spare. Small files take whole blocks: they are rounded to the filesystem's block size.
 */
export const RESERVE_COSTS = {
  /** Never less than this, whatever the card holds. */
  floorBytes: 8 * MIB,
  /** Everything below is multiplied by this: a margin for what the measurements did not see. */
  safety: 1.25,
  receiptFile: 2 * KIB,
  segmentManifestFile: 2 * KIB,
  closingManifestFile: 4 * KIB,
  auditLine: 1 * KIB,
  /** Audit lines still to come per segment on the card: its manifest, its offload and deletion, one spare. */
  auditLinesPerSegment: 3,
  /** Per incident: activation, warning, stop, closing manifest, its offload, and spares for faults. */
  auditLinesPerIncident: 8,
  /** Index growth once the write-ahead log is checkpointed into the database file. */
  indexPerSegment: 2 * KIB,
  indexPerIncident: 4 * KIB,
  /** Start-ups the reserve holds (each: started, clock, storage and speaker state, config change). */
  startups: 16,
  auditLinesPerStartup: 6,
  /** Dockings the reserve holds (each: docked, clock offset, undocked, a refusal or two; the dock's signed records). */
  dockings: 16,
  auditLinesPerDocking: 5,
  /** Docking records the dock hands over per docking (one when it settles, one more if footage came while docked). */
  dockingRecordsPerDocking: 2,
  dockingRecordLine: 1 * KIB,
  /** SQLite's write-ahead log: the auto-checkpoint size (1000 pages of 4 KiB plus frame headers) and slack. */
  walBytes: 1100 * (4096 + 24) + 32,
  /** SQLite's shared-memory index beside the WAL. */
  shmBytes: 32 * KIB,
  /** Closing the open segment: its final age chunk, and the recovery tail rewritten beside the old one. */
  closingSegment: 2 * (SEALED_CHUNK_SIZE + 4 * KIB),
} as const;

export interface ReserveInput {
  /** The filesystem's block size (statfs). */
  blockSize: number;
  /** Segments whose file is on the card (not yet offloaded), and incidents whose closing is not yet at a dock. */
  segmentsOnCard: number;
  incidentsOnCard: number;
  /** Current size of the index's write-ahead log (it only grows until it is checkpointed and deleted at close). */
  walBytesNow: number;
}

export interface Reserve {
  bytes: number;
  /** The parts before the safety margin and the floor, for `ctl status` and the tests. */
  parts: {
    segments: number;
    incidents: number;
    closingSegment: number;
    startups: number;
    dockings: number;
    wal: number;
  };
}

/**
 * The reserve for what is on the card now:
 *
 *   (S+1) × (receipt + segment manifest + 3 audit lines + index per segment)
 * + (I+1) × (closing manifest + its receipt + 8 audit lines + index per incident)
 * + closing the open segment (final chunk + recovery tail) + 16 start-ups + 16 dockings (audit lines, docking records)
 * + (WAL at its checkpoint size − WAL now) + shared-memory index
 *
 * times 1.25, and never below 8 MiB. S and I are the segments and incidents on the card (+1: the one being recorded);
 * files are rounded up to whole blocks.
 */
export function storageReserve(input: ReserveInput): Reserve {
  const c = RESERVE_COSTS;
  const block = Math.max(1, input.blockSize);
  const file = (bytes: number) => Math.ceil(bytes / block) * block;
  const perSegment = file(c.receiptFile) + file(c.segmentManifestFile) + c.auditLinesPerSegment * c.auditLine;
  const perIncident =
    file(c.closingManifestFile) + file(c.receiptFile) + c.auditLinesPerIncident * c.auditLine + c.indexPerIncident;
  const parts = {
    segments: (Math.max(0, input.segmentsOnCard) + 1) * (perSegment + c.indexPerSegment),
    incidents: (Math.max(0, input.incidentsOnCard) + 1) * perIncident,
    closingSegment: file(c.closingSegment),
    startups: c.startups * c.auditLinesPerStartup * c.auditLine,
    dockings: c.dockings * (c.auditLinesPerDocking * c.auditLine + c.dockingRecordsPerDocking * c.dockingRecordLine),
    wal: Math.max(0, c.walBytes - Math.max(0, input.walBytesNow)) + c.shmBytes,
  };
  const sum = Object.values(parts).reduce((n, v) => n + v, 0);
  return { bytes: Math.max(c.floorBytes, Math.ceil(sum * c.safety)), parts };
}

/** What the capture settings write per second: the encoder's target bitrate plus audio, plus container overhead. */
export interface RecordingRate {
  bytesPerSecond: number;
  /** The audio of one GOP: written beside each video fragment. */
  audioBytesPerGop: number;
  gopSeconds: number;
}

/**
 * fMP4 boxes and age chunk tags over the encoder's bitrate: the sim source at 400 kbit/s + audio writes 0.8 % more
 * than its target (measured, docs/design.md §18); 3 % leaves room for busier scenes' boxes.
 */
export const CONTAINER_OVERHEAD = 0.03;

export function recordingRate(source: SourceConfig): RecordingRate {
  const audioKbps = source.audio ? AUDIO_KBPS : 0;
  const bytesPerSecond = ((source.videoBitrateKbps + audioKbps) * 1000 * (1 + CONTAINER_OVERHEAD)) / 8;
  return {
    bytesPerSecond,
    audioBytesPerGop: Math.ceil((audioKbps * 1000 * (1 + CONTAINER_OVERHEAD) * source.gopSeconds) / 8),
    gopSeconds: source.gopSeconds,
  };
}

export interface OutlookInput {
  freeBytes: number;
  reserveBytes: number;
  bytesPerSecond: number;
  segmentSeconds: number;
  /** "Storage low" below this many minutes of recording left (0: never low). */
  lowMinutes: number;
}

export interface Outlook {
  level: StorageLevel;
  /** Bytes footage may still take before it reaches the reserve (0 when it already has). */
  headroomBytes: number;
  minutesLeft: number;
}

/**
 * Minutes of recording left = (free − reserve) / bitrate. "Full" when the next segment would reach the reserve,
 * "low" below `lowMinutes`. Full is what the officer is shown; recording itself goes on while a GOP still fits.
 */
export function storageOutlook(i: OutlookInput): Outlook {
  const headroomBytes = Math.max(0, i.freeBytes - i.reserveBytes);
  const minutesLeft = headroomBytes / Math.max(1, i.bytesPerSecond) / 60;
  const segmentBytes = i.bytesPerSecond * i.segmentSeconds;
  const level: StorageLevel = headroomBytes < segmentBytes ? 'full' : minutesLeft < i.lowMinutes ? 'low' : 'ok';
  return { level, headroomBytes, minutesLeft };
}
