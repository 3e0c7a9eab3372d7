/**
 * Device lab, camera: the daemon records from a real V4L2 device (vivid) and a real ALSA microphone (the snd-aloop
 * card's capture side, fed a tone on its playback side) inside the lab VM. With a mono and with a stereo
 * microphone at `hw:` level (channels from the config): one incident whose segments decrypt, decode, start on a
 * keyframe and run on without gap or duplicate, with the tone in the sound, and the status shows the frame size
 * the device really gives.
 */
import { describe, expect } from 'vitest';
import { audioLevels, meanDb } from '../harness/audio-check.ts';
import { checkFootage, itLab, report, scenario } from './lab.ts';

describe('device lab: camera on vivid and the loopback microphone', () => {
  for (const channels of [1, 2] as const) {
    const label = channels === 1 ? 'mono' : 'stereo';
    itLab(
      `records an incident from /dev/video0 with a ${label} microphone`,
      async () => {
        const s = await scenario('camera', { channels, speaker: 'plughw:Loopback,0,1' }, [String(channels)]);
        const [incident, ...others] = s.incidents;
        if (incident === undefined) throw new Error('no incident');
        expect(others).toEqual([]);
        expect(incident.prerollActualMs).toBeGreaterThanOrEqual(incident.prerollRequestedMs);
        const footage = checkFootage(incident, s.identity);
        // The status reports what the device gives (from the init segment), which is what the footage holds.
        expect(s.result.status.capture.video).toEqual({ width: footage.width, height: footage.height });
        if (footage.width !== 320 || footage.height !== 240)
          expect(s.daemonLog).toContain('the camera delivers another frame size');
        expect(s.result.status.capture.microphone).toEqual({ device: 'hw:Loopback,1,0', state: 'ok', message: '' });
        expect(s.result.status.capture.gaps).toBe(0);
        // The microphone heard the tone fed to the loopback (-21 dBFS), over the whole incident.
        expect(footage.audioPackets).toBeGreaterThan(0);
        const levels = footage.files.flatMap((f) => audioLevels(f));
        const firstS = (footage.video[0]?.pts ?? 0) * footage.timeBase;
        const endS = incident.stopMediaMs === null ? Number.NaN : incident.stopMediaMs / 1000;
        expect(meanDb(levels, firstS + 0.5, endS - 0.5)).toBeGreaterThan(-30);
        report(
          `camera, ${label} microphone`,
          s,
          `${footage.width}x${footage.height} delivered for 320x240 asked, ${incident.segments.length} segments, ${footage.video.length} frames, sound at ${meanDb(levels, firstS + 0.5, endS - 0.5).toFixed(1)} dBFS`,
        );
      },
      600_000,
    );
  }
});
