/**
 * Device lab, the warning through the speaker: the speaker is the loopback's playback side (ALSA driver, aplay)
 * and the microphone its capture side, so the recorded sound holds what the speaker played. The warning's window
 * is far above the background; the same window of a silent activation is not.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { audioLevels, type Level, meanDb } from '../harness/audio-check.ts';
import type { ListedIncident } from '../harness/daemon.ts';
import { ageDecrypt } from '../harness/media-check.ts';
import { checkFootage, itLab, report, scenario } from './lab.ts';

function levels(incident: ListedIncident, identity: string): Level[] {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bodycam-lab-warning-'));
  return incident.segments.flatMap((seg) => {
    const dec = ageDecrypt(identity, seg.path, out);
    if (!dec.ok) throw new Error(dec.stderr);
    return audioLevels(dec.out);
  });
}

describe('device lab: the warning through the speaker', () => {
  itLab(
    'is heard in the footage of a warned activation and absent from a silent one',
    async () => {
      const s = await scenario('warning', { channels: 1 });
      const [warned, silent] = s.incidents;
      if (warned === undefined || silent === undefined) throw new Error('two incidents expected');
      checkFootage(warned, s.identity);
      checkFootage(silent, s.identity);
      expect(warned.warning).toMatchObject({ state: 'given', languages: ['nl', 'fr', 'de'] });
      expect(silent.warning).toMatchObject({ state: 'suppressed' });

      const start = (warned.warning.startedMediaMs ?? Number.NaN) / 1000;
      const length = (warned.warning.durationMs ?? Number.NaN) / 1000;
      expect(length).toBeGreaterThan(5);
      const heard = levels(warned, s.identity);
      // Nothing plays before the activation: the loopback carries silence.
      const background = meanDb(heard, Math.max(0, start - 3), start - 0.5);
      const inWindow = meanDb(heard, start + 0.6, start + length - 0.6);
      expect(inWindow).toBeGreaterThan(-40);
      expect(inWindow - background).toBeGreaterThan(20);
      // The silent activation's same window (relative to its activation) carries none of it.
      const offset = start - warned.activationMediaMs / 1000;
      const silentStart = silent.activationMediaMs / 1000 + offset;
      const quiet = meanDb(levels(silent, s.identity), silentStart + 0.6, silentStart + length - 0.6);
      expect(inWindow - quiet).toBeGreaterThan(20);
      report(
        'warning through the speaker',
        s,
        `speaker plughw:Loopback,0,0, microphone hw:Loopback,1,0; warning ${length.toFixed(1)} s at ${inWindow.toFixed(1)} dBFS, background ${background.toFixed(1)} dBFS, silent activation ${quiet.toFixed(1)} dBFS`,
      );
    },
    600_000,
  );
});
