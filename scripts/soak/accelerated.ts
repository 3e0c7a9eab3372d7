/**
 * Accelerated soak: hours of media through the real daemon at a high speed factor, an activation every few media
 * minutes, and samples of the daemon's RSS, ffmpeg's RSS, open descriptors and the index. Prints the samples and a
 * verdict; exits 1 when something grows beyond the evidence itself (see verdict.ts), or the camera reported a fault.
 *
 *   npm run soak -- --hours 8 --speed 16 --every 5
 *
 *   --hours H      media hours (default 8)
 *   --speed X      media seconds per wall second of the synthetic source (default 16, the schema's maximum)
 *   --every M      media minutes from one activation to the next (default 5; 0 = buffering only)
 *   --record S     media seconds each activation records (default 60)
 *   --sample M     media minutes between samples while buffering (default 10)
 *   --config FILE  run this camera's config instead of a fresh sim camera (see realtime-24h.sh)
 *   --csv FILE     also write the samples as CSV
 *   --json FILE    also write the samples and the verdict as JSON
 *   --daemon-log FILE  append the daemon's log (JSON lines) to FILE
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak } from './soak.ts';
import { judge } from './verdict.ts';

const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '8' },
    speed: { type: 'string', default: '16' },
    every: { type: 'string', default: '5' },
    record: { type: 'string', default: '60' },
    sample: { type: 'string', default: '10' },
    config: { type: 'string' },
    csv: { type: 'string' },
    json: { type: 'string' },
    'daemon-log': { type: 'string' },
  },
});

function positive(name: string, text: string, allowZero = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) {
    process.stderr.write(`--${name} must be a positive number, got ${text}\n`);
    process.exit(2);
  }
  return n;
}

const options = {
  hours: positive('hours', values.hours),
  speed: positive('speed', values.speed),
  everyMin: positive('every', values.every, true),
  recordS: positive('record', values.record),
  sampleMin: positive('sample', values.sample),
  ...(values.config === undefined ? {} : { config: values.config }),
  ...(values.csv === undefined ? {} : { csv: values.csv }),
  ...(values['daemon-log'] === undefined ? {} : { daemonLog: values['daemon-log'] }),
  log: (line: string) => process.stdout.write(`${line}\n`),
};
if (options.everyMin > 0 && options.recordS >= options.everyMin * 60) {
  process.stderr.write('--record must be shorter than --every\n');
  process.exit(2);
}

process.stdout.write(
  `soak: ${options.hours} media h at ${values.config === undefined ? `${options.speed}x` : 'the config’s speed'}, ` +
    `an activation every ${options.everyMin} media min recording ${options.recordS} s\n`,
);
const run = await runSoak(options);
const verdict = judge(run.samples);
const last = run.samples[run.samples.length - 1];
process.stdout.write(
  `\n${run.samples.length} samples over ${(run.wallS / 60).toFixed(1)} wall min; ${run.activations} activations; ` +
    `${last?.segments ?? 0} segments, ${((last?.evidenceBytes ?? 0) / 1e6).toFixed(1)} MB of evidence\n` +
    `slopes per media hour: daemon RSS ${(verdict.slopes.rssPerHour / 1e6).toFixed(2)} MB, ffmpeg RSS ` +
    `${(verdict.slopes.ffmpegRssPerHour / 1e6).toFixed(2)} MB, descriptors ${verdict.slopes.fdsPerHour.toFixed(2)}\n`,
);
for (const c of verdict.checks) process.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
for (const f of run.faults) process.stdout.write(`  FAIL camera: ${f}\n`);
const ok = verdict.ok && run.faults.length === 0;
process.stdout.write(`verdict: ${ok ? 'flat (no growth beyond the evidence)' : 'GROWTH OR FAULT'}\n`);
if (values.config === undefined) {
  process.stdout.write(`the sim camera, its footage and index: ${path.dirname(run.configFile)} (delete when done)\n`);
}
if (values.json !== undefined) {
  writeFileSync(values.json, `${JSON.stringify({ options: { ...options, log: undefined }, run, verdict }, null, 2)}\n`);
}
process.exitCode = ok ? 0 : 1;
