/**
 * The loop recorder people build with ffmpeg alone: `-f segment -segment_time 1 -segment_wrap N` writes the fed
 * H.264 (stream copy) into a ring of MPEG-TS files, and `-segment_list` tells when each one is complete. On a
 * trigger this controller copies the completed segments covering the pre-roll to durable storage (copy, fsync
 * each file and the directory), then keeps copying each segment as it completes; on stop it copies the one in
 * progress once it completes. Durable: the pre-roll segments complete before the trigger copied and fsynced.
 *
 *   node segment-wrap-worker.ts --feed FIFO --out DIR --preroll 30 --fps 30
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, open } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { args, commands, need, report } from './protocol.ts';

const SEGMENT_SECONDS = 1;

/** The ffmpeg argument list (pure). */
export function segmentArgs(feed: string, fps: number, ringDir: string, wrap: number, list: string): string[] {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'h264', '-framerate', String(fps), '-fflags', '+genpts'],
    ...['-i', feed, '-map', '0:v:0', '-c', 'copy', '-f', 'segment', '-segment_time', String(SEGMENT_SECONDS)],
    ...['-segment_wrap', String(wrap), '-segment_format', 'mpegts', '-segment_list', list],
    ...['-segment_list_type', 'csv', '-segment_list_flags', '+live', path.join(ringDir, 'seg%03d.ts')],
  ];
}

interface Done {
  file: string;
  start: number;
  end: number;
  /** performance.now() when the list showed it. */
  at: number;
}

const a = args();
const out = need(a, '--out');
const preroll = Number(need(a, '--preroll'));
const ringDir = path.join(out, 'ring');
mkdirSync(ringDir, { recursive: true });
const list = path.join(out, 'list.csv');
const wrap = Math.ceil(preroll / SEGMENT_SECONDS) + 10;
const ffmpeg = spawn('ffmpeg', segmentArgs(need(a, '--feed'), Number(need(a, '--fps')), ringDir, wrap, list), {
  stdio: ['ignore', 'ignore', 'inherit'],
});

const done: Done[] = [];
let incident: { id: number; dir: string; files: string[]; next: number; stopAfter?: number } | undefined;
let copying = Promise.resolve();

async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  await fh.sync();
  await fh.close();
}

async function copyOut(segments: Done[]): Promise<void> {
  if (incident === undefined) return;
  const inc = incident;
  for (const s of segments) {
    const dest = path.join(inc.dir, `${String(inc.files.length).padStart(4, '0')}.ts`);
    await copyFile(path.join(ringDir, s.file), dest);
    await fsyncPath(dest);
    inc.files.push(dest);
  }
  await fsyncPath(inc.dir);
}

function poll(): void {
  let text = '';
  try {
    text = readFileSync(list, 'utf8');
  } catch {
    return;
  }
  const lines = text.split('\n').filter(Boolean);
  for (const line of lines.slice(done.length)) {
    const [file = '', start = '0', end = '0'] = line.split(',');
    done.push({ file, start: Number(start), end: Number(end), at: performance.now() });
  }
  const inc = incident;
  if (inc === undefined || inc.next >= done.length) return;
  const fresh = done.slice(inc.next);
  inc.next = done.length;
  copying = copying.then(async () => {
    await copyOut(fresh);
    if (inc.stopAfter !== undefined && inc.next > inc.stopAfter) {
      incident = undefined;
      report({ event: 'stopped', id: inc.id, files: inc.files });
    }
  });
}
const timer = setInterval(poll, 20);

report({ event: 'ready' });
await commands(async (c) => {
  if (c.cmd === 'trigger') {
    const t0 = performance.now();
    poll();
    const last = done[done.length - 1];
    // Where the stream is now: the end of the last complete segment plus the time since it completed.
    const now = last === undefined ? 0 : last.end + (t0 - last.at) / 1000;
    let first = done.length;
    while (first > 0 && (done[first - 1]?.end ?? 0) > now - preroll) first -= 1;
    const dir = path.join(out, `incident-${c.id}`);
    mkdirSync(dir);
    incident = { id: c.id, dir, files: [], next: done.length };
    const pre = done.slice(first);
    copying = copying.then(() => copyOut(pre));
    await copying;
    const bytes = incident.files.reduce((n, f) => n + statSync(f).size, 0);
    report({ event: 'durable', id: c.id, ms: performance.now() - t0, bytes, files: [...incident.files] });
  } else if (c.cmd === 'stop' && incident !== undefined) {
    // The segment in progress holds the last recorded frames: copy it once it completes.
    incident.stopAfter = done.length;
  }
});
clearInterval(timer);
ffmpeg.kill('SIGTERM');
