/**
 * Storage runs out mid-recording: the daemon keeps running, the officer is told (fault LED, write failures in
 * status), and what was synced stays on disk; once there is room again a restart recovers it and it decrypts.
 * Needs root to mount a small tmpfs as the camera's storage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, list, makeSimCamera } from '../harness/daemon.ts';
import { indexIntegrity, verifyStorage } from '../harness/faults.ts';
import { ageDecrypt, decodeErrors, probeVideo } from '../harness/media-check.ts';

const mount = mkdtempSync(path.join(os.tmpdir(), 'bodycam-full-'));
const mounted =
  process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]).status === 0;

describe.skipIf(!mounted)('storage full while recording (needs root for a 2 MB tmpfs)', () => {
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
    const full = await first
      .waitFor((s) => s.writeFailures > 0, 60_000, 'a write failure')
      .catch((e) => {
        console.log(first.log.slice(-4000));
        throw e;
      });
    expect(full.state).toBe('recording');
    expect(full.indication).toBe('storage-full');
    // Still alive and answering a while later.
    await new Promise((r) => setTimeout(r, 2000));
    const later = await first.status().catch((e) => {
      console.log(first.log.slice(-6000));
      throw e;
    });
    expect(later.capture.fragments).toBeGreaterThan(full.capture.fragments);
    expect(first.log).toContain('STORAGE_FULL');
    await first.kill9();

    // Room again (an offload or a bigger card), then a restart recovers the synced part.
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
