/**
 * kill -9 of the daemon mid-recording, then a restart: closed segments still decrypt and play, the interrupted one
 * plays up to its last synced chunk, `list` is consistent, and recording can go on.
 * A real daemon killed with SIGKILL, in real time: an integration test.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, list, makeSimCamera } from '../harness/daemon.ts';
import { ageDecrypt, decodeErrors, type Packet, probeAudio, probeVideo } from '../harness/media-check.ts';

const AAC_FRAME = 1024;

describe('power cut while recording', () => {
  // Smaller frames and faster than real time keep the test short; the code paths are the defaults'.
  const camera = makeSimCamera((c) => {
    c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 30, speed: 2, videoBitrateKbps: 400 };
    c['preRecord'].seconds = 4;
    c['recording'].segmentSeconds = 10;
  });
  const daemons: Daemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
  });

  it('keeps every synced byte and carries on after a restart', async () => {
    const first = new Daemon(camera);
    daemons.push(first);
    await first.waitFor((s) => s.ring.seconds >= 4, 60_000, 'pre-roll');
    await first.press('record', 2);
    // Two closed segments and some of a third.
    await first.waitFor((s) => (s.incident?.segments ?? 0) >= 3, 60_000, 'third segment');
    await new Promise((r) => setTimeout(r, 2500));
    await first.kill9();

    const second = new Daemon(camera);
    daemons.push(second);
    await second.waitFor((s) => s.state === 'buffering', 30_000, 'restart');

    const [incident] = list(camera);
    if (incident === undefined) throw new Error('no incident listed');
    expect(incident.state).toBe('interrupted');
    const states = incident.segments.map((s) => s.state);
    expect(states.slice(0, -1).every((s) => s === 'closed')).toBe(true);
    expect(states.at(-1)).toBe('recovered');

    const out = mkdtempSync(path.join(os.tmpdir(), 'bodycam-recovered-'));
    const video: Packet[] = [];
    const audio: Packet[] = [];
    for (const seg of incident.segments) {
      const dec = ageDecrypt(camera.identityFile, seg.path, out);
      expect(dec.stderr).toBe('');
      expect(dec.ok).toBe(true);
      expect(decodeErrors(dec.out)).toBe('');
      const probe = probeVideo(dec.out);
      expect(probe.packets.length).toBeGreaterThan(0);
      expect(probe.packets[0]?.keyframe).toBe(true);
      // The index matches what the disk holds, for the recovered segment too.
      expect(probe.packets.length).toBe(seg.frames);
      video.push(...probe.packets);
      // Audio is in the live part of every segment (the pre-roll keeps none by default).
      const sound = probeAudio(dec.out).packets;
      expect(sound.length, `audio of segment ${seg.seq}`).toBeGreaterThan(0);
      audio.push(...sound);
    }
    // Video is continuous within and across segments; video packets always carry a duration (NaN fails).
    for (let i = 1; i < video.length; i++) {
      const prev = video[i - 1] as Packet;
      expect((video[i] as Packet).pts, `frame ${i}`).toBe(prev.pts + (prev.duration ?? Number.NaN));
    }
    // Audio likewise: AAC-LC frames are 1024 samples (ticks at 48 kHz); ffprobe leaves some durations out, so the
    // frame size is the step.
    for (let i = 1; i < audio.length; i++) {
      expect((audio[i] as Packet).pts, `audio packet ${i}`).toBe((audio[i - 1] as Packet).pts + AAC_FRAME);
    }

    // Recording goes on: a new incident opens and closes normally.
    await second.press('record', 2);
    await second.waitFor((s) => s.state === 'recording', 10_000, 'second recording');
    await new Promise((r) => setTimeout(r, 1500));
    await second.press('record', 1, 3500);
    await second.waitFor((s) => s.state === 'buffering', 15_000, 'stop');
    const after = list(camera);
    expect(after).toHaveLength(2);
    expect(after[1]?.state).toBe('closed');
    expect(after[1]?.segments.every((s) => s.state === 'closed')).toBe(true);
  }, 150_000);
});

describe('SIGTERM while recording', () => {
  const daemons: Daemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
  });

  it('starts on the auxiliary trigger line, closes the open segment cleanly on SIGTERM and exits 0', async () => {
    const camera = makeSimCamera((c) => {
      c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 30, speed: 2, videoBitrateKbps: 400 };
      c['preRecord'].seconds = 3;
    });
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    await daemon.waitFor((s) => s.ring.seconds >= 3, 60_000, 'pre-roll');
    await daemon.press('trigger', 1);
    await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await daemon.terminate()).toBe(0);

    const [incident] = list(camera);
    expect(incident?.trigger).toBe('line:trigger');
    expect(incident?.state).toBe('closed');
    expect(incident?.segments.map((s) => s.state)).toEqual(['closed']);
    const seg = incident?.segments[0];
    if (seg === undefined) throw new Error('no segment');
    expect(existsSync(`${seg.path}.partial`)).toBe(false);
    expect(existsSync(`${seg.path}.tail`)).toBe(false);
    const dec = ageDecrypt(camera.identityFile, seg.path, mkdtempSync(path.join(os.tmpdir(), 'bodycam-term-')));
    expect(dec.ok).toBe(true);
    expect(probeVideo(dec.out).packets.length).toBe(seg.frames);
  }, 90_000);
});
