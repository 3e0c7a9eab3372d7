/**
 * `bodycam doctor`: what a technician checks on a camera before it goes out, each check passing, warning or
 * failing with the fix. Exit 0 when nothing failed (warnings allowed), 1 otherwise; `--json` for tooling.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { knownBoards } from '../../config/boards.ts';
import { loadConfig } from '../../config/load.ts';
import { NodeProcessRunner } from '../../hal/process/node.ts';
import type { ProcessRunner } from '../../hal/process/port.ts';
import { ErrorCode, isBodycamError } from '../../lib/errors.ts';
import { serviceAccountForRoot } from '../service-user.ts';
import { R, reachProblem } from './access.ts';
import { type Check, type CheckResult, type CheckStatus, type DoctorContext, fail, pass } from './check.ts';
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
  /** The service user the checks were made for (doctor run as root), or null (as whoever ran it). */
  checkedAs: string | null;
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
    const root = overrides.root ?? '';
    ctx = {
      config: loadConfig(file),
      configFile: file,
      runner: overrides.runner ?? new NodeProcessRunner(),
      root,
      writeTestBytes: overrides.writeTestBytes ?? 32 * 1024 * 1024,
      now: overrides.now ?? Date.now,
      account: overrides.account === undefined ? serviceAccountForRoot(root) : overrides.account,
    };
    checks.push(await configResult(ctx));
  } catch (e) {
    checks.push(configFailure(file, e));
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
    checkedAs: ctx?.account?.name ?? null,
    checks,
    summary,
    ok: summary.fail === 0,
  };
}

/** The config loads; run as root, the service user must be able to read it too. */
async function configResult(ctx: DoctorContext): Promise<CheckResult> {
  if (ctx.account === null) return pass('config', `${ctx.configFile} is valid`);
  const problem = await reachProblem(ctx, ctx.configFile, R);
  if (problem !== null) {
    return fail('config', `${ctx.configFile} is valid, but ${problem}`, `bodycam upgrade --config ${ctx.configFile}`);
  }
  return pass('config', `${ctx.configFile} is valid and ${ctx.account.name} reads it`);
}

/** A config that is not there points to provision (that is what makes one); one that does not load, to config check. */
function configFailure(file: string, e: unknown): CheckResult {
  const missing = isBodycamError(e, ErrorCode.CONFIG_UNREADABLE) && !existsSync(file);
  if (missing) {
    return fail(
      'config',
      `${file} does not exist: this camera is not provisioned`,
      `bodycam provision --board BOARD --device-id ID --recipient age1… --dir ${path.dirname(file)} (boards: ${knownBoards().join(', ')})`,
    );
  }
  return fail('config', (e as Error).message, `bodycam config check ${file}`);
}

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

export function formatReport(r: DoctorReport): string {
  const as = r.checkedAs === null ? '' : `; checked as the service user ${r.checkedAs}`;
  const head = `bodycam doctor: ${r.config}${r.board === undefined ? '' : ` (board ${r.board}, device ${r.device}${as})`}`;
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
