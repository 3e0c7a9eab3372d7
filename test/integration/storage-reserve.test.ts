/**
 * The storage reserve on a real filesystem (docs/design.md §18): a sim camera on a small tmpfs records until only
 * its reserve is left and stops cleanly (stop time, closing manifest, reason storage-full, no failed write); an
 * activation on that full card gives the refusal signal and an audit entry, plays no warning and claims nothing; and
 * the card still verifies. A card with no room at all (the reserve taken by another writer) is named as full at
 * start. Needs root to mount the tmpfs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESERVE_COSTS } from '../../src/camera/health/reserve.ts';
import { Daemon, list, makeSimCamera } from '../harness/daemon.ts';
import { indexIntegrity, verifyStorage } from '../harness/faults.ts';
import { fillLeaving, freeSpace, mountTmpfs, unmountTmpfs } from '../harness/tmpfs.ts';

const card = mountTmpfs(24);
const bare = mountTmpfs(8);

/** The kinds of the signed audit log's entries, in order. */
const auditKinds = (storage: string) =>
  readFileSync(path.join(storage, 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { payload: { kind: string } }).payload.kind);

describe.skipIf(!card.mounted || !bare.mounted)('storage reserve on small tmpfs (needs root to mount them)', () => {
  const daemons: Daemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
    unmountTmpfs(card);
    unmountTmpfs(bare);
  });

  it('records up to the reserve and stops cleanly; a full card refuses an activation truthfully', async () => {
    const camera = makeSimCamera((c) => {
      c['capture'].source = { kind: 'synthetic', width: 640, height: 480, fps: 15, speed: 4, videoBitrateKbps: 4000 };
      c['preRecord'].seconds = 2;
      c['recording'].segmentSeconds = 10;
      c['storage'].dir = card.dir;
    });
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    const ready = await daemon.waitFor((s) => s.ring.seconds >= 2 && s.storage !== null, 60_000, 'pre-roll');
    // About 16 MiB beyond the reserve at 4 Mbit/s + audio: half a minute of recording, so "low".
    expect(ready.storage?.level).toBe('low');
    expect(ready.storage?.reserveBytes).toBeGreaterThanOrEqual(RESERVE_COSTS.floorBytes);
    const bytesPerSecond = ((4000 + 64) * 1000 * 1.03) / 8;
    expect(ready.storage?.minutesLeft).toBe(
      Math.floor(((ready.storage?.headroomBytes ?? 0) / bytesPerSecond / 60) * 10) / 10,
    );
    expect(ready.storage?.minutesLeft).toBeGreaterThan(0.3);
    await daemon.press('record', 2);
    await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording');
    const full = await daemon.waitFor((s) => s.state === 'buffering', 90_000, 'the stop at the reserve');

    // A clean stop: no failed write, the incident closed with its stop time and reason, every segment sealed.
    expect(full.writeFailures).toBe(0);
    const [incident, ...others] = list(camera);
    expect(others).toEqual([]);
    expect(incident).toMatchObject({ state: 'closed', stopReason: 'storage-full' });
    expect(incident?.stoppedAt).not.toBeNull();
    const segs = incident?.segments ?? [];
    expect(segs.length).toBeGreaterThanOrEqual(2);
    expect(segs.every((s) => s.state === 'closed' && s.frames > 0)).toBe(true);
    expect(incident?.stopMediaMs).toBe(segs.at(-1)?.endMediaMs);
    await daemon.waitForEvent('manifest', 10_000);
    const closing = path.join(card.dir, 'footage', incident?.id ?? '', 'incident.manifest.json');
    await until(() => existsSync(closing), 'the closing manifest', 10_000);
    const stop = (await daemon.events()).find((e) => e.kind === 'stop');
    expect(stop?.data).toMatchObject({ reason: 'storage-full', stopAtMs: incident?.stopMediaMs });

    // The footage stopped short of the reserve: only closing it (final chunk, manifests, audit lines) went in.
    const after = await daemon.waitFor((s) => s.indication === 'storage-full', 15_000, 'storage full shown');
    expect(after.storage?.level).toBe('full');
    expect(after.outputs?.vibration.last).toBe('refused');
    const closingAllowance = RESERVE_COSTS.closingSegment + 256 * 1024;
    expect(freeSpace(card.dir).freeBytes).toBeGreaterThan((after.storage?.reserveBytes ?? 0) - closingAllowance);

    // An activation now: refused with the low buzz and pulses, written in the signed audit log, no warning played,
    // no incident claimed.
    const speakerDir = path.join(camera.dir, 'speaker');
    const playedBefore = readdirSync(speakerDir);
    await daemon.press('record', 2);
    await daemon.waitForEvent('activation_refused', 10_000);
    const refusedStatus = await daemon.waitFor(
      (s) => s.outputs?.lastPlayed?.name === 'refused',
      10_000,
      'the refusal tone',
    );
    expect(refusedStatus.state).toBe('buffering');
    expect(refusedStatus.indication).toBe('storage-full');
    expect(refusedStatus.outputs?.led).toMatchObject({ red: 'flash2', green: 'off' });
    const newClips = readdirSync(speakerDir).filter((f) => !playedBefore.includes(f));
    expect(newClips.map((f) => f.replace(/^\d+-|\.wav$/g, ''))).toEqual(['refused']);
    expect(list(camera)).toHaveLength(1);
    const events = await daemon.events();
    expect(events.filter((e) => e.kind === 'activation')).toHaveLength(1);
    expect(events.find((e) => e.kind === 'activation_refused')?.data).toMatchObject({
      trigger: 'button',
      reason: 'storage-full',
    });
    await until(() => auditKinds(card.dir).includes('activation_refused'), 'the refusal in the audit log', 10_000);

    // Stopped cleanly, the card holds what it should and verifies.
    await daemon.terminate();
    expect(indexIntegrity(camera, card.dir)).toBe('ok');
    const verified = verifyStorage(camera, card.dir);
    expect(verified.code, verified.output).toBe(0);
  }, 180_000);

  it('a card with no room at all (its reserve taken by another writer) is named as full at start', async () => {
    const camera = makeSimCamera((c) => {
      c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 15, speed: 4, videoBitrateKbps: 400 };
      c['storage'].dir = bare.dir;
    });
    const first = new Daemon(camera);
    daemons.push(first);
    await first.waitFor((s) => s.state === 'buffering', 60_000, 'first start');
    await first.terminate();
    fillLeaving(bare.dir, 0);
    const second = new Daemon(camera);
    daemons.push(second);
    expect(await second.exited).not.toBe(0);
    expect(second.log).toContain('cannot be opened: the storage is full');
    expect(second.log).toContain('STORAGE_FULL');
  }, 90_000);
});

async function until(pred: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
