/**
 * A scene for attacks on evidence, built with the real CLI, real daemons, a real dock station and a real Mosquitto on
 * a loopback port: camera A records an incident (its storage is then saved as an earlier image of its card), records
 * a second, docks with camera B (one incident) until the dock holds everything and both cameras kept the dock's
 * docking record, then records a third incident it never docks. The keys a custodian would hold (each device's
 * device.pub, the dock's dock.pub) are copied out of the trees, as provisioning and enrolment records.
 */
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockLayout } from '../../src/dock/layout.ts';
import { DockStation } from '../../src/dock/main.ts';
import { silentLogger } from '../../src/lib/logger.ts';
import { enrollCamera, makeDock, type TestDock, until } from './broker.ts';
import { type Camera, cli, Daemon, type ListedIncident, list, makeSimCamera, recordIncident } from './daemon.ts';

export interface SceneCamera {
  id: string;
  camera: Camera;
  /** The device's public key, kept outside its directory (a provisioning record). */
  key: string;
  incidents: ListedIncident[];
}

export interface Scene {
  dock: TestDock;
  station: DockStation;
  /** The dock's public key, kept outside its directory. */
  dockKey: string;
  a: SceneCamera;
  b: SceneCamera;
  /** Camera A's storage as it was after its first incident, before any docking. */
  earlierA: string;
  /** Where copies are made; removed by `dispose`. */
  scratch: string;
  daemons: Daemon[];
}

const small = (device: string) => (c: Record<string, any>) => {
  c['device'].id = device;
  c['capture'].source = { kind: 'synthetic', width: 160, height: 120, fps: 15, speed: 4, videoBitrateKbps: 200 };
  c['preRecord'].seconds = 2;
  c['recording'].segmentSeconds = 10;
  c['warning'].enabled = false;
};

export const storageOf = (c: SceneCamera) => path.join(c.camera.dir, 'storage');

function setDock(camera: Camera, level: 'on' | 'off'): void {
  const r = cli(['ctl', '--config', camera.configFile, 'set', 'dock', level]);
  if (r.code !== 0) throw new Error(r.stderr);
}

/** Docks the running cameras until the dock holds all they offered and each kept a docking record; undocks. */
export async function dockUntilRecorded(daemons: readonly Daemon[]): Promise<void> {
  for (const d of daemons) setDock(d.camera, 'on');
  for (const d of daemons) {
    await d.waitFor((s) => s.sync?.connected === true, 15_000, 'connected to the dock');
    await until(
      () => list(d.camera).every((i) => i.segments.every((s) => s.offloaded)),
      'every segment offloaded',
      90_000,
    );
    await until(() => existsSync(path.join(d.camera.dir, 'storage', 'dockings.jsonl')), 'a docking record', 60_000);
  }
  for (const d of daemons) setDock(d.camera, 'off');
  for (const d of daemons) await d.waitFor((s) => s.sync?.connected === false, 10_000, 'undocked');
}

function sceneCamera(id: string, dock: TestDock, scratch: string): SceneCamera {
  const camera = makeSimCamera(small(id));
  enrollCamera(dock.dir, camera.configFile);
  const key = path.join(scratch, `${id}.pub`);
  copyFileSync(path.join(camera.dir, 'identity', 'device.pub'), key);
  return { id, camera, key, incidents: [] };
}

export async function buildScene(): Promise<Scene> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'bodycam-scene-'));
  const dock = await makeDock();
  const dockKey = path.join(scratch, 'dock.pub');
  copyFileSync(dockLayout(dock.dir).identity.pub, dockKey);
  const station = new DockStation(dock.dir, silentLogger());
  await station.start();
  const a = sceneCamera('cam-a', dock, scratch);
  const b = sceneCamera('cam-b', dock, scratch);
  const daemons: Daemon[] = [];
  const scene: Scene = { dock, station, dockKey, a, b, earlierA: path.join(scratch, 'earlier-a'), scratch, daemons };

  const a1 = new Daemon(a.camera);
  daemons.push(a1);
  await recordIncident(a1, 6);
  await a1.terminate();
  cpSync(storageOf(a), scene.earlierA, { recursive: true });

  const a2 = new Daemon(a.camera);
  const b1 = new Daemon(b.camera);
  daemons.push(a2, b1);
  await recordIncident(a2, 14);
  await recordIncident(b1, 6);
  await dockUntilRecorded([a2, b1]);
  await recordIncident(a2, 6);
  await a2.terminate();
  await b1.terminate();
  a.incidents = list(a.camera);
  b.incidents = list(b.camera);
  return scene;
}

/** A fresh copy of `dir` under the scene's scratch directory, keeping its base name. */
export function copyOf(scene: Scene, dir: string): string {
  const to = path.join(mkdtempSync(path.join(scene.scratch, 'copy-')), path.basename(dir));
  cpSync(dir, to, { recursive: true });
  return to;
}

export async function dispose(scene: Scene | undefined): Promise<void> {
  if (scene === undefined) return;
  for (const d of scene.daemons) await d.terminate();
  await scene.station.stop();
  rmSync(scene.scratch, { recursive: true, force: true });
}
