/**
 * What the card sees: the bytes each recorder writes to its storage while it only buffers (standby) and while it
 * records, per byte of the footage it keeps. Flash wears with every byte written, so a loop recorder that writes its
 * whole stream all day pays for it in SD cards; bodycam's goal is to write nothing until an activation and little
 * more than the footage after it.
 *
 * Measured with the kernel's per-process I/O counters (`/proc/PID/io`, summed over the recorder's process tree by
 * procstat.ts): `write_bytes` counts every page a process dirties in a file on a block device, at the moment it
 * dirties it, so it counts files later deleted, truncated or overwritten (a loop recorder's wrap, bodycam's
 * `.partial` segments, index pages, manifests, audit entries and recovery tails) and leaves out pipes and sockets
 * (which `wchar` counts). It is page-granular (a 10-byte append to a clean page counts 4096, as the card is written a
 * page at a time), counts some metadata blocks the process dirties (a directory block) and not the journal, which
 * every recorder pays alike. It counts nothing on tmpfs, so the comparison refuses to run its storage there. The
 * sizes of the files kept are the cross-check: a recorder cannot have written less than the footage it keeps.
 */

export interface IoCounters {
  /** Bytes of file pages dirtied on a block device. */
  writeBytes: number;
  /** Of those, bytes truncated or deleted before they were written back. */
  cancelledWriteBytes: number;
  /** Bytes passed to write calls of any kind (files, pipes, sockets). */
  wchar: number;
}

/** `/proc/PID/io` as numbers. */
export function parseIo(text: string): IoCounters {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s*(\\d+)$`, 'm').exec(text);
    if (m === null) throw new Error(`/proc io: no ${name}`);
    return Number(m[1]);
  };
  return {
    writeBytes: field('write_bytes'),
    cancelledWriteBytes: field('cancelled_write_bytes'),
    wchar: field('wchar'),
  };
}

/**
 * A stretch of a recorder's run between two readings of its counters: standby (buffering, nothing activated),
 * recording (from the activation to the recording closed), closing (a fixed time after that, when what a recording
 * leaves behind is written: audit entries, signed manifests, index updates).
 */
export interface Phase {
  kind: 'standby' | 'recording' | 'closing';
  /** Frames fed to the recorder during the phase (its media time). */
  frames: number;
  writeBytes: number;
}

export interface CardResult {
  phases: Phase[];
  /** Bytes of footage kept: bodycam's sealed segments, the others' media files, summed over the recordings. */
  footageBytes: number;
}

export interface CardFigures {
  standbySeconds: number;
  standbyBytes: number;
  /** Bytes written per hour of standby (buffering, nothing activated), scaled from the standby phases' media time. */
  standbyBytesPerHour: number | null;
  /** Written while recording, and while closing beyond what the recorder writes in as long a standby. */
  recordingBytes: number;
  footageBytes: number;
  /** recordingBytes per byte of footage kept. */
  writeAmplification: number | null;
}

export const perHour = (bytes: number, seconds: number): number | null =>
  seconds > 0 ? (bytes / seconds) * 3600 : null;

export const amplification = (written: number, footage: number): number | null =>
  footage > 0 ? written / footage : null;

export function cardFigures(card: CardResult, fps: number): CardFigures {
  const sum = (kind: Phase['kind'], of: (p: Phase) => number) =>
    card.phases.filter((p) => p.kind === kind).reduce((n, p) => n + of(p), 0);
  const standbySeconds = sum('standby', (p) => p.frames) / fps;
  const standbyBytes = sum('standby', (p) => p.writeBytes);
  const rate = perHour(standbyBytes, standbySeconds);
  // A loop recorder's ring keeps being written while a recording closes: that is its standby, not the recording's.
  const closingSeconds = sum('closing', (p) => p.frames) / fps;
  const closingExcess = Math.max(0, sum('closing', (p) => p.writeBytes) - ((rate ?? 0) * closingSeconds) / 3600);
  const recordingBytes = sum('recording', (p) => p.writeBytes) + closingExcess;
  return {
    standbySeconds,
    standbyBytes,
    standbyBytesPerHour: rate,
    recordingBytes,
    footageBytes: card.footageBytes,
    writeAmplification: amplification(recordingBytes, card.footageBytes),
  };
}
