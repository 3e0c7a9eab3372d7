/**
 * `bodycam doctor`: what a technician checks on a camera before it goes out, each check passing, warning or
 * failing with the fix. Exit 0 when nothing failed (warnings allowed), 1 otherwise; `--json` for tooling.
 */
import path from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { NodeProcessRunner } from '../../hal/process/node.ts';
import type { ProcessRunner } from '../../hal/process/port.ts';
import { type Check, type CheckResult, type CheckStatus, type DoctorContext, fail } from './check.ts';
import { gpioCheck, promptsCheck, speakerCheck } from './devices.ts';
import { cameraCheck, encoderCheck, ffmpegCheck, microphoneCheck } from './media.ts';
import { storageCheck } from './storage.ts';
import { clockCheck, dockCheck, keysCheck } from './trust.ts';

/** In the order a technician works through a camera: capture, sound, lines, storage, trust. */
const CHECKS: ReadonlyArray<[string, Check]> = [
  ['ffmpeg', ffmpegCheck],
  ['encoder', encoderCheck],
  ['camera', cameraCheck],
  ['microphone', microphoneCheck],
  ['speaker', speakerCheck],
  ['prompts', promptsCheck],
  ['gpio', gpioCheck],
  ['storage', storageCheck],
  ['clock', clockCheck],
  ['keys', keysCheck],
  ['dock', dockCheck],
];

export interface DoctorOptions {
  config: string;
  json: boolean;
}

export interface DoctorReport {
  config: string;
  board: string | undefined;
  device: string | undefined;
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
  ok: boolean;
}

/** Run every check; a check that throws is reported as failed, never ends the run. */
export async function runDoctor(
  configFile: string,
  overrides: Partial<Omit<DoctorContext, 'config' | 'configFile'>> & { runner?: ProcessRunner } = {},
): Promise<DoctorReport> {
  const file = path.resolve(configFile);
  const checks: CheckResult[] = [];
  let ctx: DoctorContext | undefined;
  try {
    ctx = {
      config: loadConfig(file),
      configFile: file,
      runner: overrides.runner ?? new NodeProcessRunner(),
      root: overrides.root ?? '',
      writeTestBytes: overrides.writeTestBytes ?? 32 * 1024 * 1024,
      now: overrides.now ?? Date.now,
    };
    checks.push({ id: 'config', status: 'pass', detail: `${file} is valid` });
  } catch (e) {
    checks.push(fail('config', (e as Error).message, `bodycam config check ${file}`));
  }
  if (ctx !== undefined) {
    for (const [id, check] of CHECKS) {
      try {
        const result = await check(ctx);
        checks.push(...(Array.isArray(result) ? result : [result]));
      } catch (e) {
        checks.push(fail(id, `the check itself failed: ${(e as Error).message}`, 'report this with the log'));
      }
    }
  }
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) summary[c.status] += 1;
  return {
    config: file,
    board: ctx?.config.device.board,
    device: ctx?.config.device.id,
    checks,
    summary,
    ok: summary.fail === 0,
  };
}

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

export function formatReport(r: DoctorReport): string {
  const head = `bodycam doctor: ${r.config}${r.board === undefined ? '' : ` (board ${r.board}, device ${r.device})`}`;
  const rows = r.checks.flatMap((c) => {
    const row = `  ${LABEL[c.status]}  ${c.id.padEnd(11)} ${c.detail}`;
    return c.fix === undefined ? [row] : [row, `${' '.repeat(19)}fix: ${c.fix}`];
  });
  const { pass, warn, fail, skip } = r.summary;
  const tail = `${fail} failed, ${warn} warning${warn === 1 ? '' : 's'}, ${pass} passed${skip > 0 ? `, ${skip} skipped` : ''}`;
  return [head, ...rows, tail].join('\n');
}

export async function doctorCommand(opts: DoctorOptions): Promise<void> {
  const report = await runDoctor(opts.config);
  process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
  if (!report.ok) process.exitCode = 1;
}
