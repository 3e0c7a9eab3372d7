/**
 * The moov box: which tracks exist (id, kind, timescale, codec) and the per-track fragment defaults from
 * mvex/trex, which a traf falls back to when neither trun nor tfhd carries a sample's duration or flags.
 */
import type { TrackInfo, TrackKind } from '../types.ts';
import { type Box, child, children, corrupt, fullBox, need } from './boxes.ts';

export interface TrackDefaults {
  sampleDuration: number;
  sampleSize: number;
  sampleFlags: number;
}

export interface ParsedMoov {
  tracks: TrackInfo[];
  defaults: Map<number, TrackDefaults>;
}

function kindOf(handler: string): TrackKind {
  if (handler === 'vide') return 'video';
  if (handler === 'soun') return 'audio';
  return 'other';
}

function required(buf: Buffer, parent: Box, type: string): Box {
  const box = child(buf, parent, type);
  if (box === undefined) throw corrupt(`${parent.type} has no ${type}`);
  return box;
}

function trackId(buf: Buffer, tkhd: Box): number {
  const { version, body } = fullBox(buf, tkhd);
  const at = body + (version === 1 ? 16 : 8);
  need(at, 4, tkhd.end, 'tkhd');
  return buf.readUInt32BE(at);
}

/** tkhd ends with the presentation width and height, 16.16 fixed point. */
function size(buf: Buffer, tkhd: Box): { width: number; height: number } {
  need(tkhd.end - 8, 8, tkhd.end, 'tkhd');
  return { width: buf.readUInt32BE(tkhd.end - 8) >>> 16, height: buf.readUInt32BE(tkhd.end - 4) >>> 16 };
}

function timescale(buf: Buffer, mdhd: Box): number {
  const { version, body } = fullBox(buf, mdhd);
  const at = body + (version === 1 ? 16 : 8);
  need(at, 4, mdhd.end, 'mdhd');
  const value = buf.readUInt32BE(at);
  if (value === 0) throw corrupt('mdhd timescale is 0');
  return value;
}

function handler(buf: Buffer, hdlr: Box): string {
  const { body } = fullBox(buf, hdlr);
  need(body, 8, hdlr.end, 'hdlr');
  return buf.toString('latin1', body + 4, body + 8);
}

function codec(buf: Buffer, stsd: Box): string {
  const { body } = fullBox(buf, stsd);
  need(body, 12, stsd.end, 'stsd');
  if (buf.readUInt32BE(body) === 0) throw corrupt('stsd has no sample entry');
  return buf.toString('latin1', body + 8, body + 12);
}

function parseTrak(buf: Buffer, trak: Box): TrackInfo {
  const mdia = required(buf, trak, 'mdia');
  const stbl = required(buf, required(buf, mdia, 'minf'), 'stbl');
  const tkhd = required(buf, trak, 'tkhd');
  return {
    id: trackId(buf, tkhd),
    kind: kindOf(handler(buf, required(buf, mdia, 'hdlr'))),
    timescale: timescale(buf, required(buf, mdia, 'mdhd')),
    codec: codec(buf, required(buf, stbl, 'stsd')),
    ...size(buf, tkhd),
  };
}

function parseTrex(buf: Buffer, trex: Box): [number, TrackDefaults] {
  const { body } = fullBox(buf, trex);
  need(body, 20, trex.end, 'trex');
  return [
    buf.readUInt32BE(body),
    {
      sampleDuration: buf.readUInt32BE(body + 8),
      sampleSize: buf.readUInt32BE(body + 12),
      sampleFlags: buf.readUInt32BE(body + 16),
    },
  ];
}

/** Parses a complete moov box that starts at offset 0 of `buf`. */
export function parseMoov(buf: Buffer, moov: Box): ParsedMoov {
  const tracks: TrackInfo[] = [];
  const defaults = new Map<number, TrackDefaults>();
  for (const box of children(buf, moov)) {
    if (box.type === 'trak') tracks.push(parseTrak(buf, box));
    if (box.type === 'mvex') {
      for (const trex of children(buf, box).filter((b) => b.type === 'trex')) {
        const [id, d] = parseTrex(buf, trex);
        defaults.set(id, d);
      }
    }
  }
  if (tracks.length === 0) throw corrupt('moov has no track');
  if (new Set(tracks.map((t) => t.id)).size !== tracks.length) throw corrupt('moov repeats a track id');
  return { tracks, defaults };
}
