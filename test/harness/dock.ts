/**
 * The dock as the attack tests meet it: a dock station in this process whose log is captured in order (its
 * Mosquitto's lines included), honest cameras run by the real daemon with footage already in their storage, and
 * the identity of an enrolled camera for a hostile client.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { keyId, loadPublicKey } from '../../src/evidence/keys.ts';
import { createLogger, type Logger } from '../../src/lib/logger.ts';
import { enrollCamera } from './broker.ts';
import { type Camera, cli, Daemon, list, makeSimCamera } from './daemon.ts';
import { type StoredIncident, storeIncident } from './stored-footage.ts';

/** One line of the captured log (pino's JSON), in the order it was written. */
export type LogLine = Record<string, unknown> & { msg?: string; component?: string };

/** A logger at `info` whose lines land, parsed and in order, in `lines` (with any marks the test adds). */
export function captureLogger(): { logger: Logger; lines: LogLine[]; mark: (msg: string) => void } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      for (const text of chunk.toString().split('\n')) if (text !== '') lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines, mark: (msg) => lines.push({ msg, mark: true }) };
}

/** Lines with this message (and, if given, these fields). */
export function logged(lines: readonly LogLine[], msg: string, fields: Record<string, unknown> = {}): LogLine[] {
  return lines.filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
}

/** Test settings for a camera that does not record during the test: small, fast, no warning. */
export const quietCamera = (device: string) => (c: Record<string, any>) => {
  c['device'].id = device;
  c['capture'].source = { kind: 'synthetic', width: 160, height: 120, fps: 5, speed: 1, videoBitrateKbps: 200 };
  c['preRecord'].seconds = 0;
  c['warning'].enabled = false;
};

export interface OffloadingCamera {
  camera: Camera;
  daemon: Daemon;
  stored: StoredIncident[];
}

/**
 * An enrolled camera holding `incidents` closed incidents of `segments` × `bytesEach` footage, its daemon started
 * (not yet docked: `dock(camera, 'on')`).
 */
export async function offloadingCamera(
  dockDir: string,
  device: string,
  o: { segments: number; bytesEach: number; incidents?: number },
): Promise<OffloadingCamera> {
  const camera = makeSimCamera(quietCamera(device));
  enrollCamera(dockDir, camera.configFile);
  const stored: StoredIncident[] = [];
  for (let i = 0; i < (o.incidents ?? 1); i++) stored.push(await storeIncident(camera.configFile, o));
  const daemon = new Daemon(camera);
  await daemon.waitFor((s) => s.state === 'buffering', 60_000, 'the camera up');
  return { camera, daemon, stored };
}

/** Docks (`on`) or undocks a running camera through its control socket. */
export function dock(camera: Camera, level: 'on' | 'off'): void {
  const r = cli(['ctl', '--config', camera.configFile, 'set', 'dock', level]);
  if (r.code !== 0) throw new Error(r.stderr);
}

/** The camera's segments, as `bodycam list` reports them. */
export const segmentsOf = (camera: Camera) => list(camera).flatMap((i) => i.segments);

/** An enrolled camera's certificate and public signing key id: what a hostile client holding its card presents. */
export function enrolledIdentity(dockDir: string, device: string): { camera: Camera; keyId: string } {
  const camera = makeSimCamera(quietCamera(device));
  enrollCamera(dockDir, camera.configFile);
  const pub = readFileSync(path.join(camera.dir, 'identity', 'device.pub'), 'utf8');
  return { camera, keyId: keyId(loadPublicKey(pub)) };
}
