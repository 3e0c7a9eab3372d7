/**
 * The comparison's figures per recorder (medians and ranges over the triggers), its README table and its chart.
 */
import { writeFileSync } from 'node:fs';
import { type CardFigures, type CardResult, cardFigures } from './card.ts';
import { renderChart } from './chart.ts';
import type { SeamReport } from './seam.ts';

export interface TriggerResult {
  frame: number;
  durableMs: number | null;
  durableBytes: number | null;
  floorMs: number | null;
  seam: SeamReport;
}

export interface SystemResult {
  key: string;
  label: string;
  counted: string;
  triggers: TriggerResult[];
  /** CPU seconds per hour of footage: the controller process alone, and the recorder's whole process tree. */
  cpuPerHour: { controller: number; recorder: number };
  /** The same by command in the tree ('controller' for the controller; the camera's stand-in marked not counted). */
  cpuPerHourByCommand: Record<string, number>;
  peakRss: { controller: number; recorder: number };
  /** Storage writes by phase and the footage kept (card.ts). */
  card: CardResult;
}

export interface Summary {
  key: string;
  label: string;
  triggers: number;
  durableMs: number | null;
  floorMs: number | null;
  ratio: number | null;
  prerollMin: number;
  prerollMax: number;
  withinGop: number;
  keyframeFirst: number;
  lost: number;
  duplicated: number;
  unknown: number;
  cpuPerHour: { controller: number; recorder: number };
  peakRssMB: { controller: number; recorder: number };
  card: CardFigures;
}

export const median = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : ([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? null);

/** Whether a recorded pre-roll is the request or longer by at most one GOP (and one frame of rounding). */
export function withinOneGop(actual: number, requested: number, gop: number, fps: number): boolean {
  return actual >= requested - 0.5 / fps && actual <= requested + gop + 0.5 / fps;
}

export function summarise(
  results: readonly SystemResult[],
  o: { prerollSeconds: number; gopSeconds: number; fps?: number },
): Summary[] {
  const fps = o.fps ?? 30;
  return results.map((r) => {
    const ms = r.triggers.flatMap((t) => (t.durableMs === null ? [] : [t.durableMs]));
    const floors = r.triggers.flatMap((t) => (t.floorMs === null ? [] : [t.floorMs]));
    // No ratio where nothing was held: a floor for an empty pre-roll measures nothing.
    const ratios = r.triggers.flatMap((t) =>
      t.durableMs === null || t.floorMs === null || t.seam.prerollFrames < fps ? [] : [t.durableMs / t.floorMs],
    );
    const pre = r.triggers.map((t) => t.seam.prerollSeconds);
    return {
      key: r.key,
      label: r.label,
      triggers: r.triggers.length,
      durableMs: median(ms),
      floorMs: median(floors),
      ratio: median(ratios),
      prerollMin: Math.min(...pre),
      prerollMax: Math.max(...pre),
      withinGop: pre.filter((p) => withinOneGop(p, o.prerollSeconds, o.gopSeconds, fps)).length,
      keyframeFirst: r.triggers.filter((t) => t.seam.firstIsKeyframe).length,
      lost: r.triggers.reduce((n, t) => n + t.seam.lost, 0),
      duplicated: r.triggers.reduce((n, t) => n + t.seam.duplicated, 0),
      unknown: r.triggers.reduce((n, t) => n + t.seam.unknown, 0),
      cpuPerHour: r.cpuPerHour,
      peakRssMB: { controller: r.peakRss.controller / 1e6, recorder: r.peakRss.recorder / 1e6 },
      card: cardFigures(r.card, fps),
    };
  });
}

const f = (v: number | null, digits = 0) => (v === null ? 'n/a' : v.toFixed(digits));

/**
 * What a recorder that keeps evidence must do in every recording, as lines naming each failure (none: it did): no
 * frame lost, duplicated or unreadable at the seam, a pre-roll within one GOP of the request, the first frame a
 * keyframe. The comparison enforces them for bodycam; the other recorders' are shown in the table.
 */
export function recordingMisses(s: Summary): string[] {
  const misses: string[] = [];
  if (s.lost + s.duplicated + s.unknown > 0) {
    misses.push(
      `${s.label}: ${s.lost} frames lost, ${s.duplicated} duplicated and ${s.unknown} unreadable at the seams of ` +
        `${s.triggers} recordings; there must be none`,
    );
  }
  if (s.withinGop < s.triggers) {
    misses.push(`${s.label}: pre-roll within one GOP of the request in ${s.withinGop} of ${s.triggers} recordings`);
  }
  if (s.keyframeFirst < s.triggers) {
    misses.push(`${s.label}: first frame a keyframe in ${s.keyframeFirst} of ${s.triggers} recordings`);
  }
  return misses;
}

/** Bytes in decimal units: 0 B, 4.1 kB, 3.60 GB. */
export function bytes(v: number | null): string {
  if (v === null) return 'n/a';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1000 && i < units.length - 1) {
    x /= 1000;
    i += 1;
  }
  return i === 0 ? `${x.toFixed(0)} B` : `${x.toFixed(x < 10 ? 2 : 1)} ${units[i]}`;
}

export function table(summary: readonly Summary[]): string {
  const head =
    '| recorder | activation → durable pre-roll, median | × floor (seal + write + fsync of the same bytes) | pre-roll recorded (requested 30 s) | within one GOP | starts on a keyframe | frames lost / duplicated | CPU s per hour of footage: controller / recorder | peak RSS MB: controller / recorder | bytes written per standby hour | write amplification while recording |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|';
  const rows = summary.map(
    (s) =>
      `| ${s.label} | ${f(s.durableMs)} ms | ${f(s.ratio, 2)}× (floor ${f(s.floorMs)} ms) | ` +
      `${s.prerollMin.toFixed(2)}–${s.prerollMax.toFixed(2)} s | ${s.withinGop}/${s.triggers} | ` +
      `${s.keyframeFirst}/${s.triggers} | ${s.lost} / ${s.duplicated}${s.unknown > 0 ? ` (+${s.unknown} unreadable)` : ''} | ` +
      `${s.cpuPerHour.controller.toFixed(0)} / ${s.cpuPerHour.recorder.toFixed(0)} | ` +
      `${s.peakRssMB.controller.toFixed(0)} / ${s.peakRssMB.recorder.toFixed(0)} | ` +
      `${bytes(s.card.standbyBytesPerHour)} | ${s.card.writeAmplification === null ? 'n/a' : `${s.card.writeAmplification.toFixed(3)}×`} |`,
  );
  return [head, ...rows].join('\n');
}

/**
 * Each recorder's figures as ratios to a peer's in the same run (`peerKey`, the ffmpeg segment_wrap recorder): the
 * form that still means something where absolute figures do not (under arm64 emulation). Empty without the peer.
 */
export function peerTable(summary: readonly Summary[], peerKey: string): string {
  const peer = summary.find((s) => s.key === peerKey);
  if (peer === undefined) return '';
  const r = (a: number | null, b: number | null) =>
    a === null || b === null || b <= 0 ? 'n/a' : `${(a / b).toFixed(2)}×`;
  const head =
    `| recorder | activation → durable pre-roll / ${peer.label}'s | × floor | CPU per hour of footage / ${peer.label}'s: controller / tree | peak RSS / ${peer.label}'s: controller / tree | write amplification while recording | bytes written per standby hour |\n` +
    '|---|---|---|---|---|---|---|';
  const rows = summary.map(
    (s) =>
      `| ${s.label} | ${r(s.durableMs, peer.durableMs)} | ${f(s.ratio, 2)}× | ` +
      `${r(s.cpuPerHour.controller, peer.cpuPerHour.controller)} / ${r(s.cpuPerHour.recorder, peer.cpuPerHour.recorder)} | ` +
      `${r(s.peakRssMB.controller, peer.peakRssMB.controller)} / ${r(s.peakRssMB.recorder, peer.peakRssMB.recorder)} | ` +
      `${s.card.writeAmplification === null ? 'n/a' : `${s.card.writeAmplification.toFixed(3)}×`} | ${bytes(s.card.standbyBytesPerHour)} |`,
  );
  return [head, ...rows].join('\n');
}

export function writeChart(file: string, summary: readonly Summary[], prerollSeconds: number): void {
  const svg = renderChart(
    'bodycam vs. loop recorders: 1080p30 8 Mbit/s, 30 s pre-roll, same triggers',
    summary.map((s) => s.label),
    [
      {
        title: 'activation → durable ÷ floor',
        unit: '×, lower is better',
        values: summary.map((s) => s.ratio),
        mark: { value: 1, label: 'floor' },
      },
      {
        title: 'pre-roll recorded, shortest',
        unit: 's',
        values: summary.map((s) => s.prerollMin),
        mark: { value: prerollSeconds, label: 'requested' },
      },
      { title: 'frames lost + duplicated', unit: 'all triggers', values: summary.map((s) => s.lost + s.duplicated) },
      {
        title: 'recordings starting on a keyframe',
        unit: '%',
        values: summary.map((s) => (100 * s.keyframeFirst) / s.triggers),
      },
      { title: 'recorder CPU per hour of footage', unit: 's', values: summary.map((s) => s.cpuPerHour.recorder) },
      { title: 'recorder peak RSS', unit: 'MB', values: summary.map((s) => s.peakRssMB.recorder) },
      {
        title: 'written per standby hour',
        unit: 'GB',
        values: summary.map((s) => (s.card.standbyBytesPerHour === null ? null : s.card.standbyBytesPerHour / 1e9)),
      },
      {
        title: 'written while recording ÷ footage kept',
        unit: '×',
        values: summary.map((s) => s.card.writeAmplification),
        mark: { value: 1, label: 'footage' },
      },
    ],
  );
  writeFileSync(file, svg);
}
