import { existsSync } from 'node:fs';
import { CameraStore } from '../camera/storage/store.ts';
import { loadConfig } from '../config/load.ts';
import { indexFile } from '../evidence/paths.ts';

export interface ListedIncident {
  id: string;
  trigger: string;
  state: string;
  activatedAt: string;
  activationMediaMs: number;
  prerollRequestedMs: number;
  prerollActualMs: number;
  stoppedAt: string | null;
  stopMediaMs: number | null;
  stopReason: string | null;
  /** The spoken warning: given, partial, failed or suppressed (with the reason), when and in which languages. */
  warning: {
    state: string | null;
    reason: string | null;
    startedAt: string | null;
    startedMediaMs: number | null;
    durationMs: number | null;
    languages: string[];
  };
  segments: Array<{
    seq: number;
    path: string;
    state: string;
    firstMediaMs: number;
    endMediaMs: number;
    frames: number;
    bytes: number;
    sha256: string | null;
    /** The dock's signed receipt came and the file was deleted (its manifest and the receipt stay). */
    offloaded: boolean;
  }>;
}

export function listIncidents(store: CameraStore): ListedIncident[] {
  return store.incidents.all().map((inc) => ({
    id: inc.id,
    trigger: inc.trigger,
    state: inc.state,
    activatedAt: inc.activatedAt,
    activationMediaMs: inc.activationMediaMs,
    prerollRequestedMs: inc.prerollRequestedMs,
    prerollActualMs: inc.prerollActualMs,
    stoppedAt: inc.stoppedAt,
    stopMediaMs: inc.stopMediaMs,
    stopReason: inc.stopReason,
    warning: {
      state: inc.warningState,
      reason: inc.warningReason,
      startedAt: inc.warningStartedAt,
      startedMediaMs: inc.warningStartedMediaMs,
      durationMs: inc.warningDurationMs,
      languages: inc.warningLanguages === null ? [] : (JSON.parse(inc.warningLanguages) as string[]),
    },
    segments: store.segments.ofIncident(inc.id).map((s) => ({
      seq: s.seq,
      path: s.path,
      state: s.state,
      firstMediaMs: s.firstMediaMs,
      endMediaMs: s.endMediaMs,
      frames: s.frames,
      bytes: s.bytes,
      sha256: s.sha256,
      offloaded: s.offloadedAt !== null,
    })),
  }));
}

export async function listCommand(configFile: string, json: boolean): Promise<void> {
  const config = loadConfig(configFile);
  const file = indexFile(config.storage.dir);
  const incidents = existsSync(file) ? withStore(config.storage.dir, listIncidents) : [];
  if (json) {
    process.stdout.write(`${JSON.stringify({ incidents }, null, 2)}\n`);
    return;
  }
  if (incidents.length === 0) {
    process.stdout.write('no incidents\n');
    return;
  }
  for (const inc of incidents) {
    const pre = `${(inc.prerollActualMs / 1000).toFixed(1)}/${(inc.prerollRequestedMs / 1000).toFixed(0)} s pre-roll`;
    const warned =
      inc.warning.state === null
        ? ''
        : `  warning ${inc.warning.state}${inc.warning.reason === null ? '' : ` (${inc.warning.reason})`}${inc.warning.languages.length > 0 ? ` ${inc.warning.languages.join('/')}` : ''}`;
    process.stdout.write(`${inc.id}  ${inc.state}  ${inc.trigger}  ${inc.activatedAt}  ${pre}${warned}\n`);
    for (const s of inc.segments) {
      const secs = ((s.endMediaMs - s.firstMediaMs) / 1000).toFixed(1);
      process.stdout.write(
        `  #${s.seq} ${s.state}${s.offloaded ? ' offloaded' : ''} ${secs} s ${s.frames} frames ${s.bytes} B  ${s.path}\n`,
      );
    }
  }
}

function withStore<T>(storageDir: string, fn: (store: CameraStore) => T): T {
  const store = CameraStore.open(storageDir, { readonly: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}
