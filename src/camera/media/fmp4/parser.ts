/**
 * Incremental parser for the fMP4 byte stream ffmpeg writes to its stdout: chunks may split boxes anywhere.
 * It emits the init segment (ftyp + moov) and then one MediaFragment per moof + mdat.
 *
 * On damaged or hostile input it reports one MEDIA_CORRUPT error and stays failed: a byte stream that lost
 * its framing cannot be trusted again, and the capture supervisor restarts ffmpeg (with a new parser) instead.
 * Parse errors never escape `push`; errors thrown by the callbacks are the caller's own and do propagate.
 */
import { BodycamError, ErrorCode, isBodycamError } from '../../../lib/errors.ts';
import type { InitSegment, MediaFragment, TrackInfo } from '../types.ts';
import { corrupt, readBox } from './boxes.ts';
import { ByteQueue } from './byte-queue.ts';
import { isSync, parseFragment, withBaseTime } from './fragment.ts';
import { parseMoov, type TrackDefaults } from './init.ts';

/** No box we expect comes near this (a 1 s GOP at 20 Mb/s is 2.5 MiB); larger claims are treated as corrupt. */
export const MAX_BOX_BYTES = 64 * 1024 * 1024;

export interface Fmp4ParserHandlers {
  onInit(init: InitSegment): void;
  onFragment(fragment: MediaFragment): void;
  onError(error: BodycamError): void;
}

/** Where fragments are copied to (the capture's arena); default: a Buffer of their own each. */
export interface FragmentMemory {
  alloc(n: number): Buffer;
  /** Gives back memory `alloc` gave that no fragment was made of. */
  release(b: Buffer): void;
}

const OWN_BUFFERS: FragmentMemory = { alloc: (n) => Buffer.allocUnsafeSlow(n), release: () => {} };

type Step = { kind: 'init'; init: InitSegment } | { kind: 'fragment'; fragment: MediaFragment } | { kind: 'none' };

const NO_DEFAULTS: TrackDefaults = { sampleDuration: 0, sampleSize: 0, sampleFlags: 0 };
const SKIPPABLE = new Set(['free', 'skip', 'mfra', 'styp', 'sidx', 'prft', 'emsg', 'uuid', 'meta']);

function printable(header: Buffer): boolean {
  for (let i = 4; i < 8; i++) {
    const c = header[i] ?? 0;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

export class Fmp4Parser {
  readonly #handlers: Fmp4ParserHandlers;
  readonly #queue = new ByteQueue(MAX_BOX_BYTES);
  #failed = false;
  #ftyp: Buffer | undefined;
  #tracks = new Map<number, TrackInfo>();
  #defaults = new Map<number, TrackDefaults>();
  #moof: Buffer | undefined;
  #skipLeft = 0;
  #offsetMs = 0;
  readonly #memory: FragmentMemory;

  constructor(handlers: Fmp4ParserHandlers, memory: FragmentMemory = OWN_BUFFERS) {
    this.#handlers = handlers;
    this.#memory = memory;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Shift every following fragment's decode time by `ms` (rounded to track ticks), so a restarted ffmpeg, whose
   * timestamps start again at 0, continues the capture timeline instead of repeating it.
   */
  setTimelineOffsetMs(ms: number): void {
    this.#offsetMs = ms;
  }

  /** Hands in the next bytes of the stream (copied: the caller may reuse `chunk`). */
  push(chunk: Uint8Array): void {
    if (this.#failed) return;
    this.#queue.push(chunk);
    this.#parse();
  }

  /**
   * Memory for the next read of the stream, owned by the parser: read into it, then call `wrote` with the count.
   * Saves the reader a Buffer per read and the parser a copy of it (the capture reads ffmpeg's stdout this way).
   */
  space(): Buffer {
    return this.#queue.space();
  }

  /** `n` bytes were read into the start of the last `space()`. */
  wrote(n: number): void {
    if (this.#failed) return;
    this.#queue.wrote(n);
    this.#parse();
  }

  /** The stream is over for this parser (its ffmpeg ended): gives back the memory it read into. */
  release(): void {
    this.#queue.clear(true);
    this.#moof = undefined;
  }

  #parse(): void {
    for (;;) {
      let step: Step | undefined;
      try {
        step = this.#step();
      } catch (e) {
        this.#fail(e);
        return;
      }
      if (step === undefined) return;
      if (step.kind === 'init') this.#handlers.onInit(step.init);
      else if (step.kind === 'fragment') this.#handlers.onFragment(step.fragment);
    }
  }

  #fail(e: unknown): void {
    this.#failed = true;
    this.#queue.clear();
    this.#moof = undefined;
    const error = isBodycamError(e)
      ? e
      : new BodycamError(ErrorCode.MEDIA_CORRUPT, 'corrupt fMP4 stream: unreadable box', {}, { cause: e });
    this.#handlers.onError(error);
  }

  /** Consumes at most one top-level box; undefined when more bytes are needed. */
  #step(): Step | undefined {
    const queue = this.#queue;
    if (this.#skipLeft > 0) {
      const n = Math.min(this.#skipLeft, queue.length);
      queue.skip(n);
      this.#skipLeft -= n;
      return this.#skipLeft > 0 ? undefined : { kind: 'none' };
    }
    if (queue.length < 8) return undefined;
    const header = queue.peek(Math.min(16, queue.length));
    if (!printable(header)) throw corrupt('bytes do not start an MP4 box');
    const type = header.toString('latin1', 4, 8);
    let size = header.readUInt32BE(0);
    if (size === 1) {
      if (header.length < 16) return undefined;
      const large = header.readBigUInt64BE(8);
      size = large > BigInt(MAX_BOX_BYTES) ? Number.POSITIVE_INFINITY : Number(large);
    }
    if (size > MAX_BOX_BYTES) throw corrupt(`${type} box claims more than ${MAX_BOX_BYTES} bytes`, { type });
    if (size < 8) throw corrupt(`${type} box has size ${size}`, { type, size });
    if (this.#moof !== undefined && type !== 'mdat') throw corrupt(`moof followed by ${type} instead of mdat`);
    if (type === 'mdat' && this.#moof === undefined) throw corrupt('mdat without a moof');
    if (type === 'moof' && this.#tracks.size === 0) throw corrupt('moof before the init segment');
    if (!['ftyp', 'moov', 'moof', 'mdat'].includes(type)) {
      if (!SKIPPABLE.has(type)) throw corrupt(`unexpected top-level box ${type}`, { type });
      this.#skipLeft = size;
      return { kind: 'none' };
    }
    if (queue.length < size) {
      queue.expect(size);
      return undefined;
    }
    if (type === 'mdat') return this.#fragment(size);
    const box = queue.take(size);
    switch (type) {
      case 'ftyp':
        this.#ftyp = box;
        return { kind: 'none' };
      case 'moov':
        return this.#init(box);
      default:
        this.#moof = box;
        return { kind: 'none' };
    }
  }

  #init(moov: Buffer): Step {
    if (this.#ftyp === undefined) throw corrupt('moov without a preceding ftyp');
    // readBox, not a fixed 8-byte header: a moov may carry a 64-bit largesize, and its children start after it.
    const parsed = parseMoov(moov, readBox(moov, 0, moov.length));
    this.#tracks = new Map(parsed.tracks.map((t) => [t.id, t]));
    this.#defaults = parsed.defaults;
    return { kind: 'init', init: { bytes: Buffer.concat([this.#ftyp, moov]), tracks: parsed.tracks } };
  }

  /**
   * The mdat of `mdatSize` bytes is at the head of the queue. moof + mdat are copied once into the fragment's own
   * buffer: the ring keeps fragments for the whole pre-roll, so every extra copy is garbage V8 only counts as
   * external memory and collects late.
   */
  #fragment(mdatSize: number): Step {
    const moof = this.#moof ?? Buffer.alloc(0);
    this.#moof = undefined;
    const copy = this.#memory.alloc(moof.length + mdatSize);
    let bytes: Buffer = copy;
    try {
      moof.copy(bytes, 0);
      this.#queue.takeInto(bytes, moof.length, mdatSize);
    } catch (e) {
      this.#memory.release(copy);
      throw e;
    }
    let parsed: ReturnType<typeof parseFragment>;
    let track: TrackInfo | undefined;
    let baseTime: number;
    try {
      parsed = parseFragment(bytes, moof.length, (id) =>
        this.#tracks.has(id) ? (this.#defaults.get(id) ?? NO_DEFAULTS) : undefined,
      );
      track = this.#tracks.get(parsed.trackId);
      if (track === undefined) throw corrupt(`fragment for unknown track ${parsed.trackId}`);
      baseTime = parsed.baseTime;
      if (this.#offsetMs !== 0) {
        baseTime += Math.round((this.#offsetMs * track.timescale) / 1000);
        if (baseTime < 0 || baseTime > Number.MAX_SAFE_INTEGER) throw corrupt('timeline offset out of range');
        bytes = withBaseTime(bytes, parsed, baseTime);
      }
    } catch (e) {
      this.#memory.release(copy);
      throw e;
    }
    // A widened tfdt made a new Buffer: the fragment is that one.
    if (bytes !== copy) this.#memory.release(copy);
    return {
      kind: 'fragment',
      fragment: {
        track: track.id,
        kind: track.kind,
        timescale: track.timescale,
        baseTime,
        duration: parsed.duration,
        sampleCount: parsed.sampleCount,
        keyframe: track.kind === 'audio' || isSync(parsed.firstSampleFlags),
        startMs: (baseTime * 1000) / track.timescale,
        endMs: ((baseTime + parsed.duration) * 1000) / track.timescale,
        bytes,
      },
    };
  }
}
