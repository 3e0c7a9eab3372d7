/**
 * Reads back what each recorder wrote: bodycam's age segments decrypted with the bench's custodian key (the
 * camera never holds it), then for every file ffprobe's video packets (timestamps, key flags) and the coded
 * frames themselves (ffmpeg stream copy to Annex B), named by the hash of their slices.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openAgeBuffer, parseIdentities } from '../../../src/age/opener.ts';
import { accessUnits } from './annexb.ts';
import type { RecordedFrame } from './seam.ts';

/** ffprobe's video packets: presentation time (null if absent) and key flag, in file order. */
export function parsePackets(csv: string): { pts: number | null; key: boolean }[] {
  return csv
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [pts = '', flags = ''] = l.split(',');
      const t = Number(pts);
      return { pts: pts === 'N/A' || pts === '' || Number.isNaN(t) ? null : t, key: flags.includes('K') };
    });
}

function run(cmd: string, argv: string[]): Buffer {
  const r = spawnSync(cmd, argv, { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr.toString().slice(-400)}`);
  return r.stdout;
}

export function framesOfFile(file: string): RecordedFrame[] {
  const annexB = run('ffmpeg', [
    ...['-v', 'error', '-i', file, '-map', '0:v:0', '-c', 'copy'],
    ...['-bsf:v', 'h264_mp4toannexb', '-f', 'h264', 'pipe:1'],
  ]);
  const units = accessUnits(annexB);
  const packets = parsePackets(
    run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags'],
      ...['-of', 'csv=p=0', file],
    ]).toString(),
  );
  const aligned = packets.length === units.length;
  return units.map((u, i) => ({ id: u.id, key: u.key, pts: aligned ? (packets[i]?.pts ?? null) : null }));
}

/** All frames of a recording, files in order; age files are decrypted next to themselves first. */
export function framesOfRecording(files: readonly string[], identity: string | undefined): RecordedFrame[] {
  return files.flatMap((file) => {
    if (!file.endsWith('.age')) return framesOfFile(file);
    if (identity === undefined) throw new Error(`${file}: no identity to open it`);
    const plain = path.join(path.dirname(file), `${path.basename(file, '.age')}.plain.mp4`);
    writeFileSync(plain, openAgeBuffer(readFileSync(file), parseIdentities(identity)));
    return framesOfFile(plain);
  });
}
