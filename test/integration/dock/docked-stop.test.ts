/**
 * The docked lifecycle (docs/design.md §10, docs/officer-guide.md): an incident recorded and stopped while the camera
 * is docked reaches the dock (its segments, its closing manifest and the audit tail) within seconds of the stop, not
 * at the next docking; the camera's status says "safe to undock" only once all of it is at the dock with the dock's
 * signature, and "not yet" while recording. A real dock station with Mosquitto on a loopback port, a sim camera; the
 * test ends with `bodycam verify` passing on both sides, with the trust anchors from provisioning and enrolment.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import {
  auditLogFile,
  closingManifestFile,
  INCIDENT_MANIFEST,
  incidentDir,
  receiptFileFor,
} from '../../../src/evidence/paths.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { enrollCamera, makeDock } from '../../harness/broker.ts';
import { type Camera, cli, Daemon, list, makeSimCamera, type Status } from '../../harness/daemon.ts';
import { storageOf, verifyStorage } from '../../harness/faults.ts';

const DEVICE = 'cam-docked';

const setDock = (camera: Camera, level: 'on' | 'off') => {
  const r = cli(['ctl', '--config', camera.configFile, 'set', 'dock', level]);
  if (r.code !== 0) throw new Error(r.stderr);
};

/**
 * The incident is complete at the dock: every segment file and the closing manifest in the dock's store, every
 * segment and the closing acknowledged on the camera by a receipt, and the dock's copy of the audit log up to the
 * camera's last line.
 */
function completeAtDock(dockDir: string, camera: Camera, storage: string, incident: string, row?: DockRow): boolean {
  const dir = path.join(dockLayout(dockDir).evidenceDir, DEVICE, incident);
  const [inc] = list(camera).filter((i) => i.id === incident);
  if (inc === undefined || inc.state !== 'closed' || !existsSync(dir)) return false;
  const stored = readdirSync(dir).filter((f) => f.endsWith('.mp4.age')).length;
  if (stored !== inc.segments.length || !inc.segments.every((s) => s.offloaded)) return false;
  if (!existsSync(path.join(dir, INCIDENT_MANIFEST))) return false;
  if (!existsSync(receiptFileFor(closingManifestFile(incidentDir(storage, incident))))) return false;
  const cameraAudit = readFileSync(auditLogFile(storage), 'utf8')
    .split('\n')
    .filter((l) => l.endsWith('}')).length;
  return (row?.auditSeq ?? -1) === cameraAudit - 1;
}

/** One camera's row of `bodycam dock status --json`. */
interface DockRow {
  device: string;
  auditSeq: number;
  undock: { safe: boolean; text: string; reason?: string };
}

/** What `bodycam dock status --json` says about `device`. */
function dockRow(dockDir: string, device: string): DockRow | undefined {
  const r = cli(['dock', 'status', '--dir', dockDir, '--json']);
  return (JSON.parse(r.stdout) as { devices: DockRow[] }).devices.find((d) => d.device === device);
}

/** What `bodycam dock status --json` says about undocking `device`. */
function dockSays(dockDir: string, device: string): DockRow['undock'] | undefined {
  return dockRow(dockDir, device)?.undock;
}

describe('an incident that ends while the camera is docked', () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
  });

  it('is complete at the dock within 10 s of the stop; "safe to undock" shows only after it', async () => {
    const dock = await makeDock();
    const station = new DockStation(dock.dir, silentLogger());
    stations.push(station);
    await station.start();
    const camera = makeSimCamera((c) => {
      c['device'].id = DEVICE;
      c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 15, speed: 4, videoBitrateKbps: 400 };
      c['preRecord'].seconds = 2;
      c['recording'].segmentSeconds = 10;
      c['warning'].enabled = false;
    });
    enrollCamera(dock.dir, camera.configFile);
    const neverDocked = makeSimCamera((c) => {
      c['device'].id = 'cam-never';
    });
    enrollCamera(dock.dir, neverDocked.configFile);
    expect(dockSays(dock.dir, 'cam-never')).toEqual({ safe: false, reason: 'never-docked', text: 'never docked here' });
    const storage = storageOf(camera);
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    await daemon.waitFor((s) => s.ring.seconds >= 2 && s.state === 'buffering', 60_000, 'pre-roll');

    setDock(camera, 'on');
    await daemon.waitFor((s) => s.sync?.connected === true, 15_000, 'connected to the dock');
    // Nothing recorded yet: once the dock has signed for the audit log, the camera may leave.
    await daemon.waitFor((s) => s.sync?.undock.safe === true, 30_000, 'safe to undock with nothing recorded');

    await daemon.press('trigger', 1);
    const start = (await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording')).capture.mediaMs;
    const during = await daemon.waitFor((s) => s.sync?.undock.safe === false, 5_000, 'not safe while recording');
    expect(during.sync?.undock.text).toBe('not yet: recording in progress');
    // The dock says so too, at once: the camera offers its inventory as a recording starts, before any segment.
    const recordingSince = Date.now();
    let atDock = dockSays(dock.dir, DEVICE);
    while (atDock?.text !== 'not yet: recording in progress' && Date.now() - recordingSince < 5_000) {
      await new Promise((r) => setTimeout(r, 100));
      atDock = dockSays(dock.dir, DEVICE);
    }
    expect(atDock).toMatchObject({ safe: false, text: 'not yet: recording in progress' });
    await daemon.waitFor((s) => s.capture.mediaMs >= start + 14_000, 90_000, 'footage');
    expect(dockSays(dock.dir, DEVICE)).toMatchObject({ safe: false, text: 'not yet: recording in progress' });
    await daemon.press('record', 1, 3500);
    await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
    const stoppedAt = Date.now();
    const [incident] = list(camera);
    expect(incident?.segments.length).toBeGreaterThanOrEqual(2);
    const id = incident?.id ?? '';

    // Polled side by side: "safe" must never be seen before the incident is complete at the dock.
    let completeAfterMs: number | null = null;
    let last: Status | null = null;
    let dockSafe = false;
    while (Date.now() - stoppedAt < 30_000) {
      last = await daemon.status();
      const row = dockRow(dock.dir, DEVICE);
      const atDock = row?.undock;
      const safe = last.sync?.undock.safe === true;
      const complete = completeAtDock(dock.dir, camera, storage, id, row);
      if (safe) expect(complete, 'safe to undock shown before the incident was complete at the dock').toBe(true);
      if (atDock?.safe === true) expect(complete, 'dock status said safe before the incident was complete').toBe(true);
      dockSafe ||= atDock?.safe === true;
      if (complete && completeAfterMs === null) completeAfterMs = Date.now() - stoppedAt;
      if (safe && dockSafe) break;
      if (completeAfterMs === null) expect(last.sync?.undock.text).toMatch(/^not yet: /);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(completeAfterMs, 'the incident was never complete at the dock').not.toBeNull();
    expect(completeAfterMs ?? Number.POSITIVE_INFINITY).toBeLessThan(10_000);
    expect(last?.sync?.undock).toEqual({ safe: true, items: 0, text: 'safe to undock' });
    expect(dockSafe, 'dock status never said safe to undock').toBe(true);
    expect(dockSays(dock.dir, DEVICE)).toMatchObject({ safe: true, text: 'safe to undock' });

    setDock(camera, 'off');
    await daemon.waitFor((s) => s.sync?.connected === false, 10_000, 'undocked');
    const off = await daemon.status();
    expect(off.sync?.undock.safe).toBe(false);

    await daemon.terminate();
    await station.stop();
    const cam = verifyStorage(camera, storage, dockLayout(dock.dir).identity.pub);
    expect(cam.code, cam.output).toBe(0);
    const r = cli(
      ['verify', dock.dir, '--key', `${DEVICE}=${path.join(camera.dir, 'identity', 'device.pub')}`],
      120_000,
    );
    expect(r.code, `${r.stdout}${r.stderr}`.slice(0, 4000)).toBe(0);
  }, 240_000);
});
