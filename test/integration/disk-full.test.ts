/**
 * Storage runs out mid-recording although the camera kept its reserve: something else on the card took every byte
 * (docs/design.md §18: footage never takes the reserve, but the card may be shared). The recording stops at once,
 * the daemon keeps running, the officer is told (full-storage LED, write failures in status), and what was synced
 * stays on disk; once there is room again a restart recovers it and it decrypts. Needs root to mount a small tmpfs
 * as the camera's storage.
 * Real time, a real daemon and a real full file system: an integration test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, list, makeSimCamera } from '../harness/daemon.ts';
import { indexIntegrity, verifyStorage } from '../harness/faults.ts';
import { ageDecrypt, decodeErrors, probeVideo } from '../harness/media-check.ts';
import { fillLeaving } from '../harness/tmpfs.ts';

const mount = mkdtempSync(path.join(os.tmpdir(), 'bodycam-full-'));
const mounted =
  process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mount]).status === 0;

describe.skipIf(!mounted)('storage taken by another writer while recording (needs root for a 24 MB tmpfs)', () => {
  const daemons: Daemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
    spawnSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  it('keeps running, reports it, and keeps every synced byte', async () => {
    const camera = makeSimCamera((c) => {
      c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 30, speed: 4, videoBitrateKbps: 400 };
      c['preRecord'].seconds = 2;
      c['storage'].dir = mount;
    });
    const first = new Daemon(camera);
    daemons.push(first);
    await first.waitFor((s) => s.ring.seconds >= 2, 60_000, 'pre-roll');
    await first.press('record', 2);
    await first.waitFor(
      (s) => s.state === 'recording' && s.incident !== null && s.incident.segments > 0,
      30_000,
      'recording',
    );
    // Another writer takes every byte, the reserve included.
    fillLeaving(mount, 0);
    const full = await first
      .waitFor((s) => s.writeFailures > 0 && s.state === 'buffering', 60_000, 'the stop and a failed write')
      .catch((e) => {
        console.log(first.log.slice(-4000));
        throw e;
      });
    expect(full.indication).toBe('storage-full');
    expect(full.storage?.level).toBe('full');
    // Still alive and answering a while later; an activation now is refused, not half-recorded.
    await new Promise((r) => setTimeout(r, 2000));
    const later = await first.status().catch((e) => {
      console.log(first.log.slice(-6000));
      throw e;
    });
    expect(later.capture.fragments).toBeGreaterThan(full.capture.fragments);
    expect(first.log).toContain('STORAGE_FULL');
    await first.press('record', 2);
    const deadline = Date.now() + 10_000;
    while (!first.log.includes('activation refused') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(first.log).toContain('activation refused: storage is full up to its reserve');
    expect((await first.status()).state).toBe('buffering');
    await first.kill9();

    // Room again (the other writer's file gone, a bigger card), then a restart recovers the synced part.
    rmSync(path.join(mount, 'filler'));
    expect(spawnSync('mount', ['-o', 'remount,size=64m', mount]).status).toBe(0);
    const second = new Daemon(camera);
    daemons.push(second);
    await second.waitFor((s) => s.state === 'buffering', 30_000, 'restart');
    const [incident] = list(camera);
    expect(incident?.state).toBe('interrupted');
    const segment = incident?.segments.at(-1);
    expect(segment?.state).toBe('recovered');
    const out = mkdtempSync(path.join(os.tmpdir(), 'bodycam-full-out-'));
    for (const seg of incident?.segments ?? []) {
      const dec = ageDecrypt(camera.identityFile, seg.path, out);
      expect(dec.ok, dec.stderr).toBe(true);
      expect(decodeErrors(dec.out)).toBe('');
      expect(probeVideo(dec.out).packets.length).toBe(seg.frames);
      expect(seg.frames).toBeGreaterThan(0);
    }
    expect(indexIntegrity(camera, mount)).toBe('ok');
    const verified = verifyStorage(camera, mount);
    expect(verified.code, verified.output).toBe(0);
    // And it records again.
    await second.press('record', 2);
    await second.waitFor((s) => s.state === 'recording', 10_000, 'recording again');
    await new Promise((r) => setTimeout(r, 1500));
    await second.press('record', 1, 3500);
    const stopped = await second.waitFor((s) => s.state === 'buffering', 15_000, 'stop');
    expect(stopped.writeFailures).toBe(0);
    expect(list(camera).at(-1)?.state).toBe('closed');
  }, 150_000);
});
