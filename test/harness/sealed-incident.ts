/**
 * One incident as a real camera records it for the custody service's browser tests: a sim camera daemon at 320×240,
 * 8× real time, 10 s segments, records ~12 s through ffmpeg and seals it with age. The caller removes
 * `path.dirname(camera.dir)` when done.
 */
import { expect } from 'vitest';
import { Daemon, list, makeSimCamera, recordIncident } from './daemon.ts';

export async function recordSealedIncident() {
  const camera = makeSimCamera((c) => {
    c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 15, speed: 8, videoBitrateKbps: 300 };
    c['preRecord'].seconds = 2;
    c['recording'].segmentSeconds = 10;
    c['warning'].enabled = false;
  });
  const daemon = new Daemon(camera);
  try {
    await recordIncident(daemon, 12);
  } finally {
    expect(await daemon.terminate()).toBe(0);
  }
  const [incident] = list(camera);
  if (incident === undefined) throw new Error('the camera recorded no incident');
  return { camera, incident };
}
