import { existsSync } from 'node:fs';
import { enrolledDeviceIds } from '../dock/enrolled.ts';
import { dockLayout, loadDockConfig } from '../dock/layout.ts';
import { DockStation } from '../dock/main.ts';
import { readWithdrawals } from '../dock/revocation.ts';
import { dockStatus } from '../dock/status.ts';
import type { BacklogSummary } from '../dock/store/backlog.ts';
import type { DockUndock } from '../dock/sync/claims.ts';
import { Progress } from '../dock/sync/progress.ts';
import { type PendingUpdate, pendingUpdates } from '../dock/updates.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import { SdNotifier } from '../hal/service/systemd-notify.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { exitOnceStopped, listenForStop } from '../lib/signals.ts';

/**
 * `bodycam dock run`: the broker (unless external) and the agent, until SIGTERM or SIGINT. Per-camera progress
 * goes to stderr as lines for the terminal; the JSON log to stdout. Under systemd it says READY and STOPPING.
 */
export async function dockRunCommand(dir: string): Promise<void> {
  const logger = createLogger('info');
  let last = 0;
  const station = new DockStation(dir, logger, {
    onProgress: (device, line) => {
      const now = Date.now();
      if (now - last < 500 && !line.startsWith('REFUSED')) return;
      last = now;
      process.stderr.write(`${device}: ${line}\n`);
    },
  });
  // Under systemd (bodycam-dock.service, Type=notify): READY once the broker and the agent run, STOPPING on the way out.
  const notify = new SdNotifier({ processes: new NodeProcessRunner(), logger, env: process.env });
  const stop = listenForStop();
  try {
    await station.start();
  } catch (e) {
    await station.stop().catch(() => undefined);
    stop.dispose();
    throw e;
  }
  notify.send('READY=1', `STATUS=receiving footage (${dockLayout(dir).dir})`);
  const page = station.pageUrl === null ? '' : `; its page: ${station.pageUrl}/`;
  process.stderr.write(`dock ready (${dockLayout(dir).dir})${page}; Ctrl-C stops it\n`);
  logger.info({ signal: await stop.received }, 'stopping');
  notify.send('STOPPING=1');
  await station.stop();
  await notify.flush();
  logger.flush();
  exitOnceStopped(logger);
}

export { type DockStatusRow, dockStatusRows } from '../dock/status.ts';

/** Refusals shown per camera in the text status (`--json` lists them all). */
const REFUSALS_SHOWN = 10;

/** A camera's refusals for the terminal: how many of each code, then the first few. */
export function refusalLines(
  refusals: ReadonlyArray<{ incident: string; seq: number; reason: string | null }>,
): string {
  if (refusals.length === 0) return '';
  const codes = new Map<string, number>();
  for (const r of refusals) {
    const code = /^([a-z-]+):/.exec(r.reason ?? '')?.[1] ?? 'other';
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  const lines = [`  refused: ${[...codes].map(([code, n]) => `${n} ${code}`).join(', ')}`];
  for (const r of refusals.slice(0, REFUSALS_SHOWN)) lines.push(`  refused ${r.incident}#${r.seq}: ${r.reason}`);
  if (refusals.length > REFUSALS_SHOWN)
    lines.push(`  … ${refusals.length - REFUSALS_SHOWN} more (--json lists them all)`);
  return `${lines.join('\n')}\n`;
}

/** The undock decision for the terminal: what the camera last said, and when. */
/** An object store's line: nothing waiting, or what waits at the dock for it and its last answer (none for a directory). */
export function storeLine(kind: string, b: BacklogSummary | null): string | null {
  if (kind !== 's3') return null; // the dock directory itself: nothing can wait
  if (b === null || b.waiting === 0) return 'store: object store, nothing waiting at the dock';
  const since = b.oldestMs === null ? '' : ` since ${new Date(b.oldestMs).toISOString()}`;
  const answer = b.lastError === null ? '' : `; its last answer: ${b.lastError}`;
  const refused =
    b.refused === 0 ? '' : `; ${b.refused} REFUSED by the store, kept here for an operator (the log says why)`;
  return `store: ${b.waiting} write(s) waiting at the dock for the object store (${b.segments} segment(s), ${(b.bytes / 1e6).toFixed(1)} MB)${since}${answer}${refused}`;
}

/** One camera's wanted update in `dock status`: `CAM-1: release 1.5.0 ROLLED-BACK (running 1.4.0): why`. */
export function updateLine(u: PendingUpdate): string {
  const running = u.kind === 'release' ? ` (running ${u.running ?? 'unknown'})` : '';
  const state = u.state === 'rolled-back' || u.state === 'refused' ? u.state.toUpperCase() : u.state;
  return `${u.device}: ${u.kind} ${u.wanted} ${state}${running}${u.reason === undefined ? '' : `: ${u.reason}`}`;
}

export function undockLine(u: DockUndock): string {
  return 'since' in u ? `undock: ${u.text} (the camera's last word ${u.since})` : `undock: ${u.text}`;
}

/** `bodycam dock status`: every enrolled camera and what it has handed over, from the dock's progress database. */
export async function dockStatusCommand(dir: string, json: boolean): Promise<void> {
  if (!existsSync(dockLayout(dir).config))
    throw new BodycamError(ErrorCode.USAGE, `${dir} is not a dock directory (no dock.json)`);
  const progress = existsSync(dockLayout(dir).database) ? Progress.open(dir, { readonly: true }) : null;
  try {
    const { store, devices } = dockStatus(progress, {
      enrolled: enrolledDeviceIds(dir),
      withdrawals: await readWithdrawals(dockLayout(dir)),
      storeKind: loadDockConfig(dir).store.kind,
      nowMs: Date.now(),
    });
    const { kind, backlog } = store;
    const updates = await pendingUpdates(dockLayout(dir), enrolledDeviceIds(dir));
    if (json) {
      process.stdout.write(`${JSON.stringify({ store: { kind, backlog }, devices, updates }, null, 2)}\n`);
      return;
    }
    const line = storeLine(kind, backlog);
    if (line !== null) process.stdout.write(`${line}\n`);
    if (devices.length === 0) process.stdout.write('no camera is enrolled at this dock\n');
    for (const d of devices) {
      if (d.lastSeen === null) {
        process.stdout.write(`${d.device}: enrolled, never docked\n`);
        continue;
      }
      process.stdout.write(
        `${d.device}: ${d.enrolled ? '' : d.withdrawn === null ? 'NOT ENROLLED; ' : `WITHDRAWN ${d.withdrawn.at} (${d.withdrawn.reason}); `}${d.stored} segment(s) stored (${(d.storedBytes / 1e6).toFixed(1)} MB), ${d.incidents} incident(s) complete, ${d.receiving} receiving, ${d.refused} refused; audit to #${d.auditSeq}; last seen ${d.lastSeen}\n`,
      );
      process.stdout.write(refusalLines(d.refusals));
      process.stdout.write(`  ${undockLine(d.undock)}\n`);
      const k = d.docking;
      if (k !== null) {
        const chain = k.chain === null ? 'none' : `0–${k.chain.seq}`;
        const audit = k.audit === null ? 'none' : `0–${k.audit.seq}`;
        process.stdout.write(`  docking record ${k.record.seq} (${k.signedAt}): manifests ${chain}, audit ${audit}\n`);
        if (k.rollback !== null) process.stdout.write(`  ROLLED BACK: ${k.rollback}\n`);
      }
    }
    for (const u of updates) process.stdout.write(`${updateLine(u)}\n`);
  } finally {
    progress?.close();
  }
}
