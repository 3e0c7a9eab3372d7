import { existsSync } from 'node:fs';
import { dockLayout } from '../dock/layout.ts';
import { DockStation } from '../dock/main.ts';
import { Progress } from '../dock/sync/progress.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { createLogger } from '../lib/logger.ts';

/**
 * `bodycam dock run`: the broker (unless external) and the agent, until SIGTERM or SIGINT. Per-camera progress
 * goes to stderr as lines for the terminal; the JSON log to stdout.
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
  try {
    await station.start();
  } catch (e) {
    await station.stop().catch(() => undefined);
    throw e;
  }
  process.stderr.write(`dock ready (${dockLayout(dir).dir}); Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
  await station.stop();
  logger.flush();
}

/** `bodycam dock status`: what every camera has handed over, from the dock's progress database. */
export async function dockStatusCommand(dir: string, json: boolean): Promise<void> {
  if (!existsSync(dockLayout(dir).database)) {
    if (!existsSync(dockLayout(dir).config))
      throw new BodycamError(ErrorCode.USAGE, `${dir} is not a dock directory (no dock.json)`);
    process.stdout.write(json ? `${JSON.stringify({ devices: [] })}\n` : 'no camera has docked yet\n');
    return;
  }
  const progress = Progress.open(dir, { readonly: true });
  try {
    const devices = progress.summary().map((d) => ({ ...d, docking: progress.dockings.last(d.device) }));
    if (json) {
      process.stdout.write(`${JSON.stringify({ devices }, null, 2)}\n`);
      return;
    }
    for (const d of devices) {
      process.stdout.write(
        `${d.device}: ${d.stored} segment(s) stored (${(d.storedBytes / 1e6).toFixed(1)} MB), ${d.incidents} incident(s) complete, ${d.receiving} receiving, ${d.refused} refused; audit to #${d.auditSeq}; last seen ${d.lastSeen ?? 'never'}\n`,
      );
      for (const r of d.refusals) process.stdout.write(`  refused ${r.incident}#${r.seq}: ${r.reason}\n`);
      const k = d.docking;
      if (k !== null) {
        const chain = k.chain === null ? 'none' : `0–${k.chain.seq}`;
        const audit = k.audit === null ? 'none' : `0–${k.audit.seq}`;
        process.stdout.write(`  docking record ${k.record.seq} (${k.signedAt}): manifests ${chain}, audit ${audit}\n`);
        if (k.rollback !== null) process.stdout.write(`  ROLLED BACK: ${k.rollback}\n`);
      }
    }
  } finally {
    progress.close();
  }
}
