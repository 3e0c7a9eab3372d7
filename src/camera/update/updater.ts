/**
 * Signed updates delivered at the dock, on the camera (docs/design.md, "Updates through the dock"). The dock offers a
 * bundle over the sync link; the camera pulls it piece by piece, checks it against the keys provisioned on it (the
 * release key, the site's config key), never against anything the bundle or the dock says, and refuses a downgrade
 * the signed manifest does not allow. Only while idle: a recording started during a transfer abandons it, and the
 * bundle waits until the recording ends; the switch happens only when nothing records. Then it puts the release in
 * its own slot (or the config in place, keeping the previous), and asks for a restart. After the restart the new
 * release (or config) is on trial: healthy within `update.healthSeconds`, it stays; otherwise the camera goes back
 * by itself and restarts again, and reports why to the dock in every hello.
 */
import { createHash, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { validateConfig } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import { SerialQueue } from '../../lib/serial.ts';
import { type OpenedBundle, openBundle } from '../../protocol/bundle.ts';
import { UPDATE_PIECE_BYTES } from '../../protocol/limits.ts';
import type { UpdateKind, UpdateOffer, UpdatePartHeader, UpdatePull, UpdateReport } from '../../protocol/messages.ts';
import type { CameraBus, CameraEvents } from '../events.ts';
import { type HealthView, healthProblem } from './health.ts';
import {
  configUnwritable,
  currentVersion,
  installConfig,
  installRelease,
  pruneReleases,
  readState,
  restoreConfig,
  startReleaseTrial,
  switchCurrent,
  type UpdateState,
  withReport,
  writeState,
} from './slots.ts';

/** The exit status that asks the service manager to start `current` again (EX_TEMPFAIL; the unit restarts on it). */
export const RESTART_EXIT_CODE = 75;

/** Pieces asked for at once. */
const WINDOW = 8;
/** No piece for this long: the transfer is dropped (the dock offers again at the next hello). */
const STALL_MS = 30_000;
/** How often the health of an update on trial is looked at. */
const PROBE_MS = 1000;

export interface UpdaterOptions {
  bus: CameraBus;
  root: string;
  configFile: string;
  /** The config in use: a config change may not alter what ties the camera to its evidence and its trust. */
  config: Config;
  releaseKey: KeyObject;
  configKey: KeyObject | null;
  /** The release running (this program's version). */
  release: string;
  healthMs: number;
  recording: () => boolean;
  status: () => HealthView;
  /** Ask the dock for pieces of the bundle it offered. */
  pull: (body: UpdatePull) => void;
  /** A report changed (healthy, refused, deferred): tell the dock now (a hello carries the reports). */
  reported?: () => void;
  /** Stop the camera cleanly and exit with RESTART_EXIT_CODE. */
  restart: (reason: string) => void;
  clock: Clock;
  logger: Logger;
}

interface Fetch {
  offer: UpdateOffer;
  bytes: Buffer;
  received: number;
  asked: number;
  stall: TimerHandle | null;
}

export class Updater {
  readonly #o: UpdaterOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  readonly #work = new SerialQueue();
  #state: UpdateState = { trial: null, reports: [] };
  #fetch: Fetch | null = null;
  /** An offer put off by a recording: taken up again when it ends. */
  #waiting: UpdateOffer | null = null;
  /** A checked bundle waiting for the camera to be idle. */
  #ready: (Omit<OpenedBundle, 'manifest'> & { kind: UpdateKind; version: string }) | null = null;
  #probe: TimerHandle | null = null;
  #restarting = false;

  constructor(o: UpdaterOptions) {
    this.#o = o;
    this.#subs = new Subscriptions(o.bus);
  }

  async start(): Promise<void> {
    this.#state = await readState(this.#o.root);
    this.#subs.on('incident.started', () => this.#abandonForRecording());
    this.#subs.on('incident.closed', () => this.#resume());
    const t = this.#state.trial;
    if (t === null) return;
    if (t.kind === 'release' && t.version !== this.#o.release) {
      // Another release runs than the one on trial: it never started or was put back by hand.
      await this.#finish({
        kind: 'release',
        version: t.version,
        state: 'rolled-back',
        reason: `${this.#o.release} runs instead`,
      });
      return;
    }
    this.#o.logger.info({ kind: t.kind, version: t.version }, 'an update is on trial: proving health');
    const deadline = this.#o.clock.now() + this.#o.healthMs;
    let before: HealthView | null = null;
    let problem = 'not looked at yet';
    const probe = () => {
      this.#probe = null;
      const now = this.#o.status();
      const p = healthProblem(now, before);
      before = now;
      if (p === null) {
        this.#serially(() => this.#healthy());
        return;
      }
      problem = p;
      if (this.#o.clock.now() >= deadline) {
        this.#serially(() => this.#rollBack(`not healthy within ${Math.round(this.#o.healthMs / 1000)} s: ${problem}`));
        return;
      }
      this.#probe = this.#o.clock.setTimeout(probe, PROBE_MS);
    };
    this.#probe = this.#o.clock.setTimeout(probe, PROBE_MS);
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    if (this.#probe !== null) this.#o.clock.clearTimeout(this.#probe);
    this.#probe = null;
    this.#drop();
    await this.#work.idle();
  }

  /** The last outcome of each kind, for the hello. */
  reports(): UpdateReport[] {
    return this.#state.reports;
  }

  /** The dock offers a bundle. */
  offer(offer: UpdateOffer): void {
    if (this.#restarting || this.#state.trial !== null) return;
    const f = this.#fetch;
    if (f !== null && f.offer.version === offer.version && f.offer.kind === offer.kind) return;
    const last = this.#state.reports.find((r) => r.kind === offer.kind);
    if (last?.version === offer.version && (last.state === 'refused' || last.state === 'rolled-back')) return;
    if (offer.kind === 'config' && this.#o.configKey === null) {
      this.#serially(() => this.#report({ ...id(offer), state: 'refused', reason: 'no site config key provisioned' }));
      return;
    }
    if (this.#o.recording()) {
      this.#waiting = offer;
      this.#serially(() => this.#report({ ...id(offer), state: 'deferred', reason: 'recording' }));
      return;
    }
    this.#drop();
    this.#fetch = { offer, bytes: Buffer.alloc(offer.bytes), received: 0, asked: 0, stall: null };
    this.#o.logger.info({ kind: offer.kind, version: offer.version, bytes: offer.bytes }, 'fetching an update');
    this.#askMore();
  }

  /** A piece of the bundle being fetched. */
  part(h: UpdatePartHeader, bytes: Buffer): void {
    const f = this.#fetch;
    if (f === null || h.kind !== f.offer.kind || h.version !== f.offer.version || h.offset !== f.received) return;
    if (f.received + bytes.length > f.offer.bytes) {
      this.#drop();
      return;
    }
    bytes.copy(f.bytes, f.received);
    f.received += bytes.length;
    if (f.received === f.offer.bytes) {
      this.#drop();
      this.#serially(() => this.#check(f));
    } else if (f.received >= f.asked) this.#askMore();
  }

  /** Undocked: a transfer under way is dropped. */
  disconnected(): void {
    this.#drop();
  }

  #askMore(): void {
    const f = this.#fetch;
    if (f === null) return;
    if (f.stall !== null) this.#o.clock.clearTimeout(f.stall);
    f.stall = this.#o.clock.setTimeout(() => this.#drop(), STALL_MS);
    // The dock sends WINDOW pieces of UPDATE_PIECE_BYTES; the next window is asked for when they are in.
    f.asked = Math.min(f.offer.bytes, f.received + WINDOW * UPDATE_PIECE_BYTES);
    this.#o.pull({ kind: f.offer.kind, version: f.offer.version, offset: f.received, count: WINDOW });
  }

  #drop(): void {
    if (this.#fetch?.stall) this.#o.clock.clearTimeout(this.#fetch.stall);
    this.#fetch = null;
  }

  #abandonForRecording(): void {
    const f = this.#fetch;
    if (f !== null) {
      this.#o.logger.info({ version: f.offer.version }, 'a recording started: the update waits');
      this.#waiting = f.offer;
      this.#drop();
    }
  }

  #resume(): void {
    if (this.#o.recording()) return;
    if (this.#ready !== null) {
      this.#serially(() => this.#apply());
      return;
    }
    const w = this.#waiting;
    this.#waiting = null;
    if (w !== null) this.offer(w);
  }

  async #check(f: Fetch): Promise<void> {
    const { offer } = f;
    if (createHash('sha256').update(f.bytes).digest('hex') !== offer.sha256) {
      this.#o.logger.warn({ version: offer.version }, 'an update arrived damaged: dropped (offered again later)');
      return;
    }
    const key = offer.kind === 'release' ? this.#o.releaseKey : this.#o.configKey;
    if (key === null) return;
    const running = offer.kind === 'release' ? this.#o.release : (this.#state.configVersion ?? '0.0.0');
    const opened = openBundle(f.bytes, key, offer.kind, running);
    if ('refused' in opened) {
      this.#o.logger.error(
        { kind: offer.kind, version: offer.version, reason: opened.refused },
        'an update was refused',
      );
      await this.#report({ ...id(offer), state: 'refused', reason: opened.refused });
      return;
    }
    const { manifest, signed, files } = opened.ok;
    if (manifest.version !== offer.version) {
      await this.#report({
        ...id(offer),
        state: 'refused',
        reason: `the bundle is ${manifest.version}, not ${offer.version}`,
      });
      return;
    }
    if (offer.kind === 'config') {
      const problem = this.#configProblem(files);
      if (problem !== null) {
        this.#o.logger.error({ version: offer.version, reason: problem }, 'a config change was refused');
        await this.#report({ ...id(offer), state: 'refused', reason: problem });
        return;
      }
    }
    this.#ready = { kind: offer.kind, version: manifest.version, signed, files };
    await this.#apply();
  }

  /** The same rules as `bodycam config check`, and nothing that ties the camera to its evidence or trust changed. */
  #configProblem(files: ReadonlyArray<{ path: string; bytes: Buffer }>): string | null {
    const file = files.length === 1 && files[0]?.path === 'config.json' ? files[0] : null;
    if (file === null) return 'a config bundle holds exactly one file, config.json';
    let doc: unknown;
    try {
      doc = JSON.parse(file.bytes.toString('utf8'));
    } catch {
      return 'config check: config.json is not JSON';
    }
    const checked = validateConfig(doc, path.dirname(path.resolve(this.#o.configFile)));
    if (!checked.ok) {
      return `config check: ${checked.problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`.slice(0, 300);
    }
    const next = checked.config;
    const c = this.#o.config;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (next.device.id !== c.device.id) return `a config for ${next.device.id}, not this camera`;
    if (next.storage.dir !== c.storage.dir) return 'a config change may not move the evidence storage';
    if (next.evidence.keyFile !== c.evidence.keyFile) return 'a config change may not change the signing key';
    if (!same(next.encryption, c.encryption)) return 'a config change may not change the evidence recipients';
    if (!same(next.dock, c.dock)) return 'a config change may not change the dock enrolment';
    if (!same(next.update, c.update)) return 'a config change may not change the update keys';
    return null;
  }

  /** Puts a checked bundle in place and restarts, if nothing records; otherwise when the recording ends. */
  async #apply(): Promise<void> {
    const r = this.#ready;
    if (r === null || this.#restarting) return;
    if (this.#o.recording()) {
      await this.#report({ kind: r.kind, version: r.version, state: 'deferred', reason: 'recording' });
      return;
    }
    this.#ready = null;
    const { root } = this.#o;
    if (r.kind === 'release') {
      const previous = (await currentVersion(root)) ?? this.#o.release;
      await installRelease(root, r.version, r.files, r.signed);
      if (this.#o.recording()) {
        this.#ready = r;
        return;
      }
      this.#state = await startReleaseTrial(root, this.#state, r.version, previous, this.#o.clock.wallNow());
    } else {
      // Not writable here (the packaged unit keeps /etc read-only): refused before any trial is recorded.
      const problem = await configUnwritable(this.#o.configFile);
      if (problem !== null) {
        this.#o.logger.error({ version: r.version, reason: problem }, 'a config change cannot be put in place');
        await this.#report({ kind: r.kind, version: r.version, state: 'refused', reason: problem });
        return;
      }
      const previous = this.#state.configVersion ?? '0.0.0';
      this.#state = withReport({ ...this.#state, trial: trial(r, previous, this.#o.clock) }, installing(r));
      await writeState(root, this.#state);
      await installConfig(this.#o.configFile, r.files[0]?.bytes ?? Buffer.alloc(0));
    }
    this.#o.logger.info({ kind: r.kind, version: r.version }, 'update in place: restarting');
    this.#restarting = true;
    this.#o.restart(`${r.kind} ${r.version} installed`);
  }

  async #healthy(): Promise<void> {
    const t = this.#state.trial;
    if (t === null) return;
    this.#o.logger.info({ kind: t.kind, version: t.version }, 'the update proved healthy');
    const configVersion = t.kind === 'config' ? t.version : this.#state.configVersion;
    this.#state = {
      ...withReport({ ...this.#state, trial: null }, { kind: t.kind, version: t.version, state: 'healthy' }),
      ...(configVersion === undefined ? {} : { configVersion }),
    };
    await writeState(this.#o.root, this.#state);
    if (t.kind === 'release') await pruneReleases(this.#o.root, [t.version, t.previous]);
    this.#o.reported?.();
  }

  async #rollBack(reason: string): Promise<void> {
    const t = this.#state.trial;
    if (t === null) return;
    this.#o.logger.error({ kind: t.kind, version: t.version, reason }, 'the update did not prove healthy: going back');
    if (t.kind === 'release') await switchCurrent(this.#o.root, t.previous);
    else await restoreConfig(this.#o.configFile);
    await this.#finish({ kind: t.kind, version: t.version, state: 'rolled-back', reason });
    this.#restarting = true;
    this.#o.restart(`${t.kind} ${t.version} rolled back`);
  }

  async #finish(report: UpdateReport): Promise<void> {
    this.#state = withReport({ ...this.#state, trial: null }, report);
    await writeState(this.#o.root, this.#state);
  }

  async #report(report: UpdateReport): Promise<void> {
    // Only a change is told: a hello answered by the same offer must not start a round of hellos.
    const last = this.#state.reports.find((r) => r.kind === report.kind);
    if (JSON.stringify(last) === JSON.stringify(report)) return;
    this.#state = withReport(this.#state, report);
    await writeState(this.#o.root, this.#state);
    this.#o.reported?.();
  }

  #serially(op: () => Promise<void>): void {
    this.#work.push(op, (e: unknown) => this.#o.logger.error({ err: e }, 'an update step failed'));
  }
}

const id = (o: { kind: UpdateKind; version: string }) => ({ kind: o.kind, version: o.version });
const installing = (r: { kind: UpdateKind; version: string }): UpdateReport => ({ ...id(r), state: 'installing' });
const trial = (r: { kind: UpdateKind; version: string }, previous: string, clock: Clock) => ({
  ...id(r),
  previous,
  since: clock.wallNow(),
});

/**
 * The camera could not start at all with an update on trial (a release that fails at start, a config whose capture
 * cannot open): goes back at once rather than waiting for the deadline. True when it went back (exit with
 * RESTART_EXIT_CODE then); false when no update is on trial.
 */
export async function rollBackFailedStart(c: Config, configFile: string, reason: string): Promise<boolean> {
  if (c.update === undefined) return false;
  const { root } = c.update;
  const state = await readState(root);
  const t = state.trial;
  if (t === null) return false;
  if (t.kind === 'release') await switchCurrent(root, t.previous);
  else await restoreConfig(configFile);
  const why = `start-up failed: ${reason}`.slice(0, 300);
  await writeState(
    root,
    withReport({ ...state, trial: null }, { kind: t.kind, version: t.version, state: 'rolled-back', reason: why }),
  );
  return true;
}
