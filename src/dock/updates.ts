/**
 * Signed updates held at the dock (docs/dock-operations.md, "Updates"): the bundles the site put here with
 * `bodycam dock release` / `bodycam dock config-push`, which camera should take which (releases/wanted.json), and
 * what each camera last said of them (releases/reports.json). The dock cannot sign anything a camera would install:
 * it only carries bundles signed elsewhere, and each camera checks them against keys provisioned on it. A camera
 * that says hello running another release than wanted is offered the bundle, which it pulls piece by piece.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Clock } from '../hal/clock/port.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { SerialQueue } from '../lib/serial.ts';
import { type BundleKind, type BundleManifest, peekManifest } from '../protocol/bundle.ts';
import { checkUpdatePull } from '../protocol/checks.ts';
import { UPDATE_PIECE_BYTES } from '../protocol/limits.ts';
import type { Hello, UpdateKind, UpdateOffer, UpdateReport } from '../protocol/messages.ts';
import { downTopic } from '../protocol/topics.ts';
import type { SyncTransport } from '../protocol/transport/port.ts';
import { bundleFile, type DockLayout } from './layout.ts';

/**
 * Which version of each kind each camera should take: per device, per named group of cameras, or for every camera
 * (the last two for releases only). A camera named itself wins over its group, its group over every camera; a camera
 * is in one group at most, so which release it should run is never a choice between two.
 */
export interface Wanted {
  version: 1;
  release: {
    all?: string;
    devices: Record<string, string>;
    groups: Record<string, { version: string; devices: string[] }>;
  };
  config: { devices: Record<string, string> };
}

/** Whom `dock update` holds a bundle for: cameras named, a group (named cameras become its members), or every one. */
export interface Target {
  devices: readonly string[];
  group?: string;
}

/** A group's name: what a fleet manager would type (e.g. `pilot`, `zone-north`). */
export const GROUP_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** What a camera last said (its hello): the release it runs and its update reports. */
export interface CameraReport {
  release: string;
  updates: UpdateReport[];
  /** When the dock last offered it a bundle, per kind (wall ms). */
  offered: Partial<Record<UpdateKind, { version: string; at: number }>>;
  at: number;
}

export type PendingState = 'pending' | 'installing' | 'healthy' | 'rolled-back' | 'refused';

/** One camera's update as the dock sees it, for `dock status` and the dock's page. */
export interface PendingUpdate {
  device: string;
  kind: UpdateKind;
  wanted: string;
  /** The release it runs (release), as it last said; null: not seen since. */
  running: string | null;
  state: PendingState;
  reason?: string;
}

const EMPTY_WANTED = (): Wanted => ({ version: 1, release: { devices: {}, groups: {} }, config: { devices: {} } });

export async function readWanted(layout: DockLayout): Promise<Wanted> {
  try {
    const v = JSON.parse(await readFile(layout.releases.wanted, 'utf8')) as Wanted;
    return {
      version: 1,
      release: {
        ...(v.release?.all === undefined ? {} : { all: v.release.all }),
        devices: v.release?.devices ?? {},
        groups: v.release?.groups ?? {},
      },
      config: { devices: v.config?.devices ?? {} },
    };
  } catch {
    return EMPTY_WANTED();
  }
}

export async function readReports(layout: DockLayout): Promise<Record<string, CameraReport>> {
  try {
    return JSON.parse(await readFile(layout.releases.reports, 'utf8')) as Record<string, CameraReport>;
  } catch {
    return {};
  }
}

/**
 * Writes `file` whole through `<file>.tmp`, created afresh (O_EXCL): a link planted at the temporary name by whoever can
 * write releases/ (the dock's service user) is removed, never written through, even when root runs `dock update`.
 */
async function replaceFile(file: string, data: string | Buffer): Promise<void> {
  await rm(`${file}.tmp`, { force: true });
  await writeFile(`${file}.tmp`, data, { mode: 0o644, flag: 'wx' });
  await rename(`${file}.tmp`, file);
}

const writeJson = (file: string, v: unknown) => replaceFile(file, `${JSON.stringify(v, null, 2)}\n`);

/** The version of `kind` camera `device` should take (null: none wanted). */
export function wantedFor(w: Wanted, kind: UpdateKind, device: string): string | null {
  if (kind === 'config') return w.config.devices[device] ?? null;
  const group = Object.values(w.release.groups).find((g) => g.devices.includes(device));
  return w.release.devices[device] ?? group?.version ?? w.release.all ?? null;
}

/**
 * Puts a bundle in the dock's keeping and makes it the wanted one for `target`: the cameras named; a group (a release:
 * the cameras named become its members, or it keeps the ones it had); or every camera (a release named for no one).
 * A config names its one camera. The dock reads the manifest to file it, never to trust it: the camera checks the
 * signature. Nothing is written when the target is refused.
 */
export async function holdBundle(
  layout: DockLayout,
  bundle: Buffer,
  target: Target,
): Promise<{ manifest: BundleManifest; file: string; devices: string[] }> {
  const manifest = peekManifest(bundle);
  if ('refused' in manifest) throw new BodycamError(ErrorCode.USAGE, `not a bundle: ${manifest.refused}`);
  const w = await readWanted(layout);
  const { group } = target;
  if (manifest.kind === 'config' && (group !== undefined || target.devices.length !== 1)) {
    throw new BodycamError(ErrorCode.USAGE, 'a config bundle is for one camera: name it with --device (no --group)');
  }
  let devices = [...new Set(target.devices)].sort();
  if (group !== undefined) {
    if (!GROUP_NAME.test(group)) {
      throw new BodycamError(
        ErrorCode.USAGE,
        `group name ${JSON.stringify(group)}: use a-z, 0-9, - and _ (at most 40)`,
      );
    }
    if (devices.length === 0) devices = w.release.groups[group]?.devices ?? [];
    if (devices.length === 0) {
      throw new BodycamError(ErrorCode.USAGE, `no group ${group} yet: name its cameras with --device the first time`);
    }
    for (const [name, g] of Object.entries(w.release.groups)) {
      const both = name === group ? [] : devices.filter((d) => g.devices.includes(d));
      if (both.length > 0) {
        throw new BodycamError(
          ErrorCode.USAGE,
          `${both.join(', ')} already in group ${name}: a camera is in one group`,
        );
      }
    }
  }
  await mkdir(layout.releases.dir, { recursive: true });
  const file = bundleFile(layout, manifest.kind, manifest.version);
  await replaceFile(file, bundle);
  if (group !== undefined) {
    // The latest word naming a camera wins: a camera put in a group leaves its own pin.
    w.release.groups[group] = { version: manifest.version, devices };
    for (const d of devices) delete w.release.devices[d];
  } else if (devices.length === 0) w.release.all = manifest.version;
  else
    for (const d of devices) (manifest.kind === 'release' ? w.release.devices : w.config.devices)[d] = manifest.version;
  await writeJson(layout.releases.wanted, w);
  return { manifest, file, devices };
}

/** Every camera with an update wanted, and where it stands: the hook for `dock status` and the dock's page. */
export async function pendingUpdates(layout: DockLayout, enrolled: readonly string[]): Promise<PendingUpdate[]> {
  const w = await readWanted(layout);
  const reports = await readReports(layout);
  const out: PendingUpdate[] = [];
  const devices = [
    ...new Set([
      ...enrolled,
      ...Object.keys(w.release.devices),
      ...Object.values(w.release.groups).flatMap((g) => g.devices),
      ...Object.keys(w.config.devices),
    ]),
  ];
  for (const device of devices.sort()) {
    for (const kind of ['release', 'config'] as const) {
      const wanted = wantedFor(w, kind, device);
      if (wanted === null) continue;
      out.push({ device, kind, wanted, ...standing(reports[device], kind, wanted) });
    }
  }
  return out;
}

function standing(
  r: CameraReport | undefined,
  kind: UpdateKind,
  wanted: string,
): { running: string | null; state: PendingState; reason?: string } {
  const running = r?.release ?? null;
  const report = r?.updates.find((u) => u.kind === kind && u.version === wanted);
  if (report?.state === 'rolled-back' || report?.state === 'refused') {
    return { running, state: report.state, ...(report.reason === undefined ? {} : { reason: report.reason }) };
  }
  // On trial after its restart, a camera runs the wanted release and says `installing` until it proved healthy.
  if (report?.state === 'installing') return { running, state: 'installing' };
  if (kind === 'release' ? running === wanted : report?.state === 'healthy') return { running, state: 'healthy' };
  if (report?.state === 'deferred') return { running, state: 'pending', reason: report.reason ?? 'deferred' };
  if (r?.offered[kind]?.version === wanted) return { running, state: 'installing', reason: 'offered, fetching' };
  return { running, state: 'pending' };
}

/** The dock agent's side of updates: offers at each hello, pieces on each pull, reports kept. */
export class DockUpdates {
  readonly #layout: DockLayout;
  readonly #transport: SyncTransport;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** Bundles read, by file (the same bundle goes to many cameras). */
  readonly #bundles = new Map<string, Buffer>();
  readonly #work = new SerialQueue();
  /** Each camera's last hello, for `stillDocked`. */
  readonly #hellos = new Map<string, Hello>();

  constructor(o: { layout: DockLayout; transport: SyncTransport; logger: Logger; clock: Clock }) {
    this.#layout = o.layout;
    this.#transport = o.transport;
    this.#log = o.logger;
    this.#clock = o.clock;
  }

  /** A camera said hello: keep what it says of its updates, and offer what it should take and has not refused. */
  hello(device: string, hello: Hello): void {
    this.#hellos.set(device, hello);
    this.#work.push(
      () => this.#hello(device, hello),
      (e: unknown) => this.#log.error({ err: e, device }, 'an update step failed'),
    );
  }

  /**
   * A camera in session is still docked (its inventory came in): if a bundle was held for it since its hello and not
   * yet offered, it is offered now, from what that hello said. A camera left in its dock takes a release held while
   * it sits there, without being undocked first.
   */
  stillDocked(device: string): void {
    const hello = this.#hellos.get(device);
    if (hello === undefined) return;
    this.#work.push(
      async () => {
        const w = await readWanted(this.#layout);
        const offered = (await readReports(this.#layout))[device]?.offered ?? {};
        const fresh = (['release', 'config'] as const).some((kind) => {
          const wanted = wantedFor(w, kind, device);
          return (
            wanted !== null && offered[kind]?.version !== wanted && (kind === 'config' || wanted !== hello.release)
          );
        });
        if (fresh) await this.#hello(device, hello);
      },
      (e: unknown) => this.#log.error({ err: e, device }, 'an update step failed'),
    );
  }

  /** A camera asks for pieces of a bundle. */
  pull(device: string, payload: Buffer): void {
    this.#work.push(
      () => this.#pull(device, payload),
      (e: unknown) => this.#log.error({ err: e, device }, 'an update step failed'),
    );
  }

  /** Lets every step under way finish. */
  idle(): Promise<void> {
    return this.#work.idle();
  }

  async #hello(device: string, hello: Hello): Promise<void> {
    const w = await readWanted(this.#layout);
    const reports = await readReports(this.#layout);
    const r: CameraReport = {
      release: hello.release,
      updates: hello.updates ?? [],
      offered: reports[device]?.offered ?? {},
      at: this.#clock.wallNow(),
    };
    for (const kind of ['release', 'config'] as const) {
      const wanted = wantedFor(w, kind, device);
      if (wanted === null) continue;
      const s = standing(r, kind, wanted);
      if (s.state === 'healthy' || s.state === 'rolled-back' || s.state === 'refused') {
        if (s.state !== 'healthy') this.#log.warn({ device, kind, wanted, ...s }, 'a camera did not take its update');
        continue;
      }
      if (r.updates.find((u) => u.kind === kind && u.version === wanted)?.state === 'installing') continue;
      const bundle = await this.#bundle(kind, wanted);
      if (bundle === null) continue;
      const offer: UpdateOffer = {
        kind,
        version: wanted,
        bytes: bundle.length,
        sha256: createHash('sha256').update(bundle).digest('hex'),
      };
      this.#transport.publish(downTopic(device, 'update'), JSON.stringify(offer));
      r.offered[kind] = { version: wanted, at: this.#clock.wallNow() };
      this.#log.info({ device, kind, version: wanted }, 'update offered');
    }
    reports[device] = r;
    await mkdir(this.#layout.releases.dir, { recursive: true });
    await writeJson(this.#layout.releases.reports, reports);
  }

  /** Only a bundle the dock would offer this camera now is sent. */
  async #pull(device: string, payload: Buffer): Promise<void> {
    const p = checkUpdatePull(payload);
    if ('error' in p) {
      this.#log.warn({ device, reason: p.error }, 'an update pull was refused');
      return;
    }
    const w = await readWanted(this.#layout);
    if (wantedFor(w, p.ok.kind, device) !== p.ok.version) {
      this.#log.warn({ device, ...p.ok }, 'a camera asked for a bundle not meant for it: nothing sent');
      return;
    }
    const bundle = await this.#bundle(p.ok.kind, p.ok.version);
    if (bundle === null) return;
    for (let i = 0; i < p.ok.count; i++) {
      const offset = p.ok.offset + i * UPDATE_PIECE_BYTES;
      if (offset >= bundle.length) break;
      this.#transport.publish(downTopic(device, 'update-part'), bundle.subarray(offset, offset + UPDATE_PIECE_BYTES), {
        headers: { kind: p.ok.kind, version: p.ok.version, offset: String(offset) },
      });
    }
  }

  async #bundle(kind: BundleKind, version: string): Promise<Buffer | null> {
    const file = bundleFile(this.#layout, kind, version);
    const held = this.#bundles.get(file);
    if (held !== undefined) return held;
    try {
      const b = await readFile(file);
      this.#bundles.set(file, b);
      return b;
    } catch (e) {
      this.#log.error({ file, err: e }, 'a wanted bundle cannot be read');
      return null;
    }
  }
}
