/**
 * The acceptance scenario on `init --board sim` defaults (1280x720 at 30 fps, real time, 30 s pre-roll):
 * buffer ≥ 35 s, double press, record 10 s, hold 3.5 s; then decrypt every segment with the real `age` tool and
 * check the timeline with ffprobe.
 * Real time and real processes (the compiled daemon, ffmpeg, `age`, ffprobe): an integration test. The same path runs
 * in-process on fake time in test/unit/camera/camera.test.ts.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, list, makeSimCamera } from '../harness/daemon.ts';
import { ageDecrypt, decodeErrors, type Packet, probeVideo } from '../harness/media-check.ts';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('record button scenario on sim defaults', () => {
  const camera = makeSimCamera();
  const daemon = new Daemon(camera);
  afterAll(async () => {
    await daemon.terminate();
  });

  it('writes 30 s of pre-roll plus the recording, continuous across segments, decryptable by age', async () => {
    await daemon.waitFor((s) => s.capture.mediaMs >= 35_000, 90_000, '35 s of buffering');

    // Only buffering: nothing but the index, the audit log (start, storage and clock entries), the keys, the prompts
    // and the control socket exist under the camera's directory: no footage.
    const footage = filesUnder(camera.dir).filter(
      (f) =>
        !/(config\.json|index\.sqlite(-wal|-shm)?|bodycam\.sock|prompts\/warning-[a-z]{2}\.wav|identity\/device\.(key|pub)|storage\/device\.pub|storage\/audit\.jsonl)$/.test(
          f,
        ),
    );
    expect(footage).toEqual([]);
    // The evidence store is the daemon's alone: nobody else reads the index or the audit log.
    const storage = path.join(camera.dir, 'storage');
    expect(statSync(storage).mode & 0o777).toBe(0o700);
    for (const f of ['index.sqlite', 'index.sqlite-wal', 'audit.jsonl'])
      expect(statSync(path.join(storage, f)).mode & 0o077).toBe(0);
    const status = await daemon.status();
    expect(status.state).toBe('buffering');
    expect(status.indication).toBe('standby');
    expect(status.ring.seconds).toBeGreaterThanOrEqual(30);
    expect(status.ring.seconds).toBeLessThanOrEqual(32);

    await daemon.press('record', 2);
    const recording = await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording');
    expect(recording.indication).toBe('recording');
    await new Promise((r) => setTimeout(r, 10_000));
    await daemon.press('record', 1, 3500);
    await daemon.waitFor((s) => s.state === 'buffering', 15_000, 'back to buffering');

    const incidents = list(camera);
    expect(incidents).toHaveLength(1);
    const [incident] = incidents;
    if (incident === undefined) throw new Error('no incident');
    expect(incident.state).toBe('closed');
    expect(incident.trigger).toBe('button');
    expect(incident.prerollRequestedMs).toBe(30_000);
    expect(incident.prerollActualMs).toBeGreaterThanOrEqual(30_000);
    expect(incident.prerollActualMs).toBeLessThanOrEqual(31_000);
    expect(incident.segments.length).toBeGreaterThanOrEqual(1);

    const out = mkdtempSync(path.join(os.tmpdir(), 'bodycam-custodian-'));
    const all: Packet[] = [];
    let timeBase = 0;
    for (const seg of incident.segments) {
      expect(seg.state).toBe('closed');
      expect(path.isAbsolute(seg.path)).toBe(true);
      expect(statSync(seg.path).size).toBe(seg.bytes);
      const dec = ageDecrypt(camera.identityFile, seg.path, out);
      expect(dec.stderr).toBe('');
      expect(dec.ok).toBe(true);
      expect(decodeErrors(dec.out)).toBe('');
      const probe = probeVideo(dec.out);
      expect(probe.errors).toBe('');
      expect(probe.packets[0]?.keyframe).toBe(true);
      expect(probe.packets.length).toBe(seg.frames);
      timeBase = probe.timeBase;
      all.push(...probe.packets);
    }

    // Continuous: every frame starts where the previous ended, through every segment boundary.
    for (let i = 1; i < all.length; i++) {
      const prev = all[i - 1];
      const cur = all[i];
      if (prev === undefined || cur === undefined) throw new Error('unreachable');
      // Video packets always carry a duration; a missing one fails here (NaN).
      expect(cur.pts, `frame ${i}`).toBe(prev.pts + (prev.duration ?? Number.NaN));
    }
    const first = all[0];
    const last = all[all.length - 1];
    if (first === undefined || last === undefined) throw new Error('no frames');
    const firstMs = first.pts * timeBase * 1000;
    const endMs = (last.pts + (last.duration ?? Number.NaN)) * timeBase * 1000;
    // Covers ≥ 30 s before the press, at most one GOP (1 s) more, and runs to the stop.
    expect(incident.activationMediaMs - firstMs).toBeGreaterThanOrEqual(30_000);
    expect(incident.activationMediaMs - firstMs).toBeLessThanOrEqual(31_000 + 1);
    expect(endMs - incident.activationMediaMs).toBeGreaterThanOrEqual(10_000 + 3_000);
    expect(incident.stopMediaMs).not.toBeNull();
    expect(endMs).toBeGreaterThanOrEqual(incident.stopMediaMs ?? Number.POSITIVE_INFINITY);
  }, 180_000);
});
