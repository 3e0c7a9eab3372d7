/** Listening to what the camera played and recorded: sox statistics of a WAV, RMS levels of a footage's audio. */
import { spawnSync } from 'node:child_process';

/** sox's RMS amplitude (0–1) of a sound file. */
export function soxRms(file: string): number {
  const r = spawnSync('sox', [file, '-n', 'stat'], { encoding: 'utf8' });
  const m = /RMS\s+amplitude:\s+([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || m?.[1] === undefined) throw new Error(`sox stat ${file} failed: ${r.stderr}`);
  return Number(m[1]);
}

export interface Level {
  /** Start of the window on the file's timeline (the capture timeline, for a segment), seconds. */
  at: number;
  /** RMS level in dBFS (-Infinity for digital silence). */
  db: number;
}

/** RMS level of the first audio stream in windows of `windowS` seconds. */
export function audioLevels(file: string, windowS = 0.25): Level[] {
  const samples = Math.round(48_000 * windowS);
  const r = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      file,
      '-map',
      '0:a:0',
      '-af',
      `asetnsamples=n=${samples},astats=metadata=1:reset=1,ametadata=print:key=lavfi.astats.Overall.RMS_level:file=-`,
      '-f',
      'null',
      '-',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg astats ${file} failed: ${r.stderr}`);
  const start = Number(
    spawnSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=start_time', '-of', 'csv=p=0', file],
      {
        encoding: 'utf8',
      },
    ).stdout.trim(),
  );
  const levels: Level[] = [];
  let at: number | undefined;
  for (const line of (r.stdout + r.stderr).split('\n')) {
    const t = /pts_time:([\d.]+)/.exec(line);
    if (t?.[1] !== undefined) at = start + Number(t[1]);
    const v = /RMS_level=(-?[\d.]+|-inf)/.exec(line);
    if (v?.[1] !== undefined && at !== undefined)
      levels.push({ at, db: v[1] === '-inf' ? Number.NEGATIVE_INFINITY : Number(v[1]) });
  }
  return levels;
}

/** Mean level (dB, averaged as power) of the windows lying wholly within [from, to) seconds. */
export function meanDb(levels: readonly Level[], from: number, to: number, windowS = 0.25): number {
  const inside = levels.filter((l) => l.at >= from && l.at + windowS <= to);
  if (inside.length === 0) throw new Error(`no audio windows within ${from}–${to} s`);
  const power = inside.reduce((s, l) => s + 10 ** (l.db / 10), 0) / inside.length;
  return 10 * Math.log10(power);
}
