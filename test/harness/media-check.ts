/** Custodian-side checks with the real tools: `age -d` to decrypt, ffprobe to decode and read the timeline. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export function ageDecrypt(
  identityFile: string,
  encrypted: string,
  outDir: string,
): { ok: boolean; out: string; stderr: string } {
  const out = path.join(outDir, `${path.basename(encrypted)}.mp4`);
  const r = spawnSync('age', ['-d', '-i', identityFile, '-o', out, encrypted], { encoding: 'utf8' });
  return { ok: r.status === 0, out, stderr: r.stderr };
}

export interface Packet {
  pts: number;
  /** Absent when ffprobe reports none (it omits it for the first audio packet of a fragment). */
  duration?: number;
  keyframe: boolean;
}

export interface Probe {
  /** ffprobe -v error output: empty when the file decodes cleanly. */
  errors: string;
  timeBase: number;
  packets: Packet[];
}

/** Video packets in decode order with their timestamps in stream ticks. */
export function probeVideo(file: string): Probe {
  return probeStream(file, 'v:0');
}

/** Audio packets likewise (a segment may have none: audio stays out of the pre-roll by default). */
export function probeAudio(file: string): Probe {
  return probeStream(file, 'a:0');
}

function probeStream(file: string, stream: string): Probe {
  const r = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      stream,
      '-show_entries',
      'stream=time_base:packet=pts,duration,flags',
      '-of',
      'json',
      file,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) return { errors: r.stderr || `ffprobe exit ${r.status}`, timeBase: 0, packets: [] };
  const doc = JSON.parse(r.stdout) as {
    streams: Array<{ time_base: string }>;
    packets: Array<{ pts: number; duration: number; flags: string }>;
  };
  const [num, den] = (doc.streams[0]?.time_base ?? '0/1').split('/').map(Number);
  return {
    errors: r.stderr,
    timeBase: (num ?? 0) / (den ?? 1),
    packets: doc.packets.map((p) => ({ pts: p.pts, duration: p.duration, keyframe: p.flags.includes('K') })),
  };
}

/** Decode every frame (not just demux) and return ffmpeg's error output. */
export function decodeErrors(file: string): string {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  return r.status === 0 ? r.stderr : `${r.stderr}\nexit ${r.status}`;
}
