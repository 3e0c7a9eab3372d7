/**
 * Attacks on the dock's time and disk by one camera: an inventory of 22,000 bad offers (3.8 MB), over and over,
 * while another camera offloads; a compromised camera offering a 64 GiB segment it signed; a camera with more
 * footage than its quota. Each camera has budgets (offers per inventory, bytes in flight, a disk quota, a segment
 * size cap) and the dock a free-space floor; refusals go out in one reply and into SQLite in one transaction, and
 * the flood is taken in slices, so the other camera's transfer keeps moving while it is.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { sha256Hex } from '../../../src/evidence/canonical.ts';
import { sign } from '../../../src/evidence/envelope.ts';
import { loadPrivateKey } from '../../../src/evidence/keys.ts';
import type { SegmentManifest } from '../../../src/evidence/manifest.ts';
import { CHUNK_BYTES } from '../../../src/protocol/limits.ts';
import { makeDock, until } from '../../harness/broker.ts';
import { cli, type Daemon } from '../../harness/daemon.ts';
import {
  captureLogger,
  dock,
  enrolledIdentity,
  type LogLine,
  logged,
  offloadingCamera,
  segmentsOf,
} from '../../harness/dock.ts';
import { HostileCamera, inventoryOf } from '../../harness/hostile-camera.ts';
import { storeIncident } from '../../harness/stored-footage.ts';

const MiB = 1024 * 1024;

/** An inventory of `n` offers whose manifests are not signed (about 170 bytes each). */
function floodInventory(session: string, n: number): string {
  const segments = Array.from({ length: n }, (_, i) => ({
    incident: `flood-${String(i).padStart(6, '0')}`,
    seq: 0,
    file: '0000.mp4.age',
    bytes: 1_000_000,
    sha256: 'ab'.repeat(32),
    manifest: { format: 'x' },
  }));
  return JSON.stringify({ session, segments, incidents: [], auditHead: -1 });
}

function setLimits(dockDir: string, limits: Record<string, number>): void {
  const file = dockLayout(dockDir).config;
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...doc, limits }, null, 2));
}

const status = (dockDir: string) => JSON.parse(cli(['dock', 'status', '--dir', dockDir, '--json']).stdout);

describe('per-camera budgets', () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  const hostile: HostileCamera[] = [];
  afterAll(async () => {
    for (const h of hostile) await h.end();
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
  }, 60_000);

  it('floods of 22,000 bad offers are refused in one reply each, and the other camera keeps moving', async () => {
    const d = await makeDock();
    const { logger, lines, mark } = captureLogger();
    const station = new DockStation(d.dir, logger, {
      checkpointBytes: 1024 * 1024,
      onProgress: (device, line) => mark(`progress ${device} ${line}`),
    });
    stations.push(station);
    await station.start();
    const evil = enrolledIdentity(d.dir, 'cam-evil');
    const honest = await offloadingCamera(d.dir, 'cam-honest', { segments: 4, bytesEach: 4 * MiB });
    daemons.push(honest.daemon);
    const h = await HostileCamera.connect(d.port, evil.camera, 'cam-evil');
    hostile.push(h);
    await h.greet(evil.keyId);
    const flood = floodInventory(h.session, 22_000);
    expect(flood.length).toBeGreaterThan(3.7e6);
    expect(flood.length).toBeLessThan(4e6);

    dock(honest.camera, 'on');
    // Five at once, then one more each time the dock has answered the last: the dock is never without a flood.
    let sent = 0;
    let done = false;
    const attack = (async () => {
      for (; sent < 5; sent++) await h.publish('inventory', flood);
      while (!done) {
        const answered = h.of('refusals').length;
        await until(() => done || h.of('refusals').length > answered, 'an answer', 60_000);
        await h.publish('inventory', flood);
        sent += 1;
      }
    })();
    // The flood goes on until the honest offload is done and the dock has handled a second flood (the one that came
    // while it handled the first): a fast offload may finish inside the first flood's handling.
    const handledFloods = () => logged(lines, 'inventory handled', { device: 'cam-evil' }).length;
    try {
      await until(
        () => segmentsOf(honest.camera).every((s) => s.offloaded) && handledFloods() >= 2,
        'the honest offload and two floods handled',
        150_000,
      );
    } finally {
      done = true;
      await attack;
    }
    expect(sent).toBeGreaterThan(2);

    // Each flood handled: the first 1000 offers checked and refused in one reply, the other 21,000 not considered.
    const handled = logged(lines, 'inventory handled', { device: 'cam-evil' });
    expect(handled[0]).toMatchObject({ offers: 22_000, queued: 0, refused: 1000, notConsidered: 21_000 });
    await until(() => h.of('refusals').length >= handled.length, 'the refusals');
    const reply = h.of('refusals')[0]?.body;
    expect(reply?.['segments']).toHaveLength(1000);
    expect(reply?.['segments'][0]).toMatchObject({ incident: 'flood-000000', seq: 0, code: 'malformed-manifest' });
    expect(reply?.['notConsidered']).toBe(21_000);
    expect(h.of('refuse')).toEqual([]);
    // Inventories that came while one was waiting replaced it: the dock handled fewer than came.
    expect(handled.length).toBeLessThan(sent);
    expect(handled.length).toBeGreaterThan(1);
    // Ordering, not wall time: the honest camera's transfer made progress while a flood was being handled.
    const during = progressDuringFloods(lines);
    expect(during).toBeGreaterThan(0);
    // The refusals are recorded (at most the per-camera cap), the honest camera's footage all stored.
    const devices = status(d.dir).devices as Array<{ device: string; refused: number; stored: number }>;
    expect(devices.find((x) => x.device === 'cam-evil')?.refused).toBe(1000);
    expect(devices.find((x) => x.device === 'cam-honest')?.stored).toBe(4);
  }, 300_000);

  it('an inventory of 50,000 bogus closing manifests: the first thousand checked, one line logged', async () => {
    const d = await makeDock();
    const { logger, lines } = captureLogger();
    const station = new DockStation(d.dir, logger);
    stations.push(station);
    await station.start();
    const evil = enrolledIdentity(d.dir, 'cam-evil');
    const h = await HostileCamera.connect(d.port, evil.camera, 'cam-evil');
    hostile.push(h);
    await h.greet(evil.keyId);
    const incidents = Array.from({ length: 50_000 }, (_, i) => ({ incident: `c-${i}`, manifest: {} }));
    await h.publish('inventory', JSON.stringify({ session: h.session, segments: [], incidents, auditHead: -1 }));
    await until(() => logged(lines, 'closing manifests refused').length > 0, 'the closings checked', 60_000);
    expect(logged(lines, 'closing manifests refused')).toEqual([
      expect.objectContaining({ device: 'cam-evil', refused: 1000 }),
    ]);
    expect(h.of('ack')).toEqual([]);
  }, 120_000);

  it("a compromised camera's 64 GiB segment is refused before a byte moves: size cap, quota, free-space floor", async () => {
    const d = await makeDock();
    const evil = enrolledIdentity(d.dir, 'cam-evil');
    await storeIncident(evil.camera.configFile, { segments: 1, bytesEach: 1024 });
    const free = Math.floor(((await statfs(d.dir)).bavail * (await statfs(d.dir)).bsize) / MiB);
    const cases: Array<[Record<string, number>, string]> = [
      [{}, 'too-large'], // the defaults: a 4 GiB cap
      [{ maxSegmentMiB: 65_536, cameraQuotaMiB: 1024 }, 'over-quota'],
      [{ maxSegmentMiB: 65_536, minFreeMiB: free }, 'dock-disk-full'],
    ];
    for (const [limits, code] of cases) {
      setLimits(d.dir, limits);
      const station = new DockStation(d.dir, captureLogger().logger);
      stations.push(station);
      await station.start();
      const h = await HostileCamera.connect(d.port, evil.camera, 'cam-evil');
      hostile.push(h);
      await h.greet(evil.keyId);
      const inventory = await inventoryOf(evil.camera, h.session);
      const [offer] = inventory.segments;
      if (offer === undefined) throw new Error('nothing to offer');
      // Its own key signs a manifest for 64 GiB: a valid offer, as far as signatures go.
      const genuine = offer.manifest as { payload: SegmentManifest };
      const payload = { ...genuine.payload, segment: { ...genuine.payload.segment, bytes: 64 * 1024 ** 3 } };
      const key = loadPrivateKey(readFileSync(`${evil.camera.dir}/identity/device.key`, 'utf8'));
      const forged = { ...offer, bytes: 64 * 1024 ** 3, manifest: sign(payload, key, evil.keyId) };
      await h.publish('inventory', JSON.stringify({ ...inventory, segments: [forged] }));
      const reply = (await h.nth('refusals')).body;
      expect(reply['segments']).toEqual([expect.objectContaining({ incident: offer.incident, seq: offer.seq, code })]);
      expect(h.of('pull')).toEqual([]);
      await h.end();
      await station.stop();
    }
    expect(existsSync(path.join(d.dir, 'incoming', 'cam-evil'))).toBe(false);
  }, 120_000);

  it("a camera over its quota keeps what does not fit; another camera's offload is not held up", async () => {
    const d = await makeDock();
    setLimits(d.dir, { cameraQuotaMiB: 10 });
    const station = new DockStation(d.dir, captureLogger().logger);
    stations.push(station);
    await station.start();
    const big = await offloadingCamera(d.dir, 'cam-big', { segments: 4, bytesEach: 4 * MiB });
    const small = await offloadingCamera(d.dir, 'cam-small', { segments: 2, bytesEach: 4 * MiB });
    daemons.push(big.daemon, small.daemon);
    dock(big.camera, 'on');
    dock(small.camera, 'on');
    await until(() => segmentsOf(small.camera).every((s) => s.offloaded), 'the small offload', 120_000);
    await until(() => segmentsOf(big.camera).filter((s) => s.offloaded).length === 2, 'two of four', 120_000);
    const refused = await big.daemon.waitForEvent('offload_refused', 60_000);
    expect(String(refused.data['reason'])).toContain('2 over-quota');
    const kept = segmentsOf(big.camera).filter((s) => !s.offloaded);
    expect(kept.map((s) => s.seq)).toEqual([2, 3]);
    expect(kept.every((s) => existsSync(s.path))).toBe(true);
    const devices = status(d.dir).devices as Array<{ device: string; refusals: Array<{ reason: string }> }>;
    const reasons = devices.find((x) => x.device === 'cam-big')?.refusals.map((r) => r.reason) ?? [];
    expect(reasons).toEqual([expect.stringMatching(/^over-quota: /), expect.stringMatching(/^over-quota: /)]);
  }, 300_000);

  it('an inventory arriving mid-transfer counts the whole of what is under way against the quota', async () => {
    const d = await makeDock();
    setLimits(d.dir, { cameraQuotaMiB: 10 });
    const station = new DockStation(d.dir, captureLogger().logger);
    stations.push(station);
    await station.start();
    // A camera that answers pulls itself: four segments of 4 MiB against a 10 MiB quota.
    const greedy = enrolledIdentity(d.dir, 'cam-greedy');
    const stored = await storeIncident(greedy.camera.configFile, { segments: 4, bytesEach: 4 * MiB });
    const h = await HostileCamera.connect(d.port, greedy.camera, 'cam-greedy');
    hostile.push(h);
    await h.greet(greedy.keyId);
    const inventory = await inventoryOf(greedy.camera, h.session);
    const first = inventory.segments[0];
    if (first === undefined) throw new Error('nothing to offer');
    await h.publish('inventory', JSON.stringify(inventory));
    const refusedFirst = (await h.nth('refusals')).body['segments'] as Array<{ seq: number; code: string }>;
    expect(refusedFirst.map((r) => [r.seq, r.code])).toEqual([
      [2, 'over-quota'],
      [3, 'over-quota'],
    ]);
    // Everything of segment 0 but its last chunk: most of it received, none of it stored yet.
    const bytes = readFileSync(path.join(greedy.camera.dir, 'storage', 'footage', stored.incident, first.file));
    const lastChunk = Math.floor((bytes.length - 1) / CHUNK_BYTES) * CHUNK_BYTES;
    let sent = 0;
    for (let n = 0; sent < lastChunk; n++) {
      const pull = (await h.nth('pull', n)).body as { seq: number; offset: number; count: number };
      if (pull.seq !== first.seq) continue;
      for (let i = 0; i < pull.count && pull.offset + i * CHUNK_BYTES < lastChunk; i++) {
        const offset = pull.offset + i * CHUNK_BYTES;
        const chunk = bytes.subarray(offset, offset + CHUNK_BYTES);
        await h.publish('chunk', chunk, {
          session: h.session,
          incident: first.incident,
          seq: String(first.seq),
          offset: String(offset),
          sha256: sha256Hex(chunk),
        });
        sent = offset + CHUNK_BYTES;
      }
    }
    const part = path.join(d.dir, 'incoming', 'cam-greedy', `${first.incident}-${first.file}.part`);
    await until(() => existsSync(part) && statSync(part).size === lastChunk, 'segment 0 received but its last chunk');
    // The same inventory again, mid-transfer: segments 2 and 3 still do not fit.
    await h.publish('inventory', JSON.stringify(inventory));
    const refusedAgain = (await h.nth('refusals', 1)).body['segments'] as Array<{ seq: number; code: string }>;
    expect(refusedAgain.map((r) => [r.seq, r.code])).toEqual([
      [2, 'over-quota'],
      [3, 'over-quota'],
    ]);
    expect(h.of('pull').filter((p) => p.body['seq'] === 2 || p.body['seq'] === 3)).toEqual([]);
  }, 120_000);
});

/** Progress lines of another camera between a flood's arrival and its handling being done. */
function progressDuringFloods(lines: readonly LogLine[]): number {
  let inFlood = false;
  let count = 0;
  for (const l of lines) {
    if (l.msg === 'inventory received' && l['device'] === 'cam-evil') inFlood = true;
    else if (l.msg === 'inventory handled' && l['device'] === 'cam-evil') inFlood = false;
    else if (inFlood && typeof l.msg === 'string' && l.msg.startsWith('progress cam-honest')) count += 1;
  }
  return count;
}
