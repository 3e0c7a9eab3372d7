/**
 * The spoken warning and the officer's feedback, end to end through the CLI and the daemon on `init --board sim`
 * defaults (1280x720, real time, 30 s pre-roll) with audio kept in the pre-roll. The file speaker writes what it
 * plays under DIR/speaker/, the synthetic microphone hears it (the simulated room), and the decrypted footage is
 * listened to with ffmpeg; prompts and played files are checked with sox.
 * Real time and real processes (the compiled daemon, ffmpeg, sox): an integration test. The warning's order and
 * timing on fake time: test/unit/camera/feedback/warning.test.ts and test/unit/camera/camera.test.ts.
 */
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { audioLevels, type Level, meanDb, soxRms } from '../harness/audio-check.ts';
import { Daemon, type ListedIncident, list, makeSimCamera } from '../harness/daemon.ts';
import { ageDecrypt } from '../harness/media-check.ts';
import { itWith } from '../harness/tools.ts';

const SMALL = { kind: 'synthetic', width: 320, height: 240, fps: 15, speed: 1, videoBitrateKbps: 300 };

/** The incident's audio levels over all its segments, on the capture timeline. */
function incidentLevels(incident: ListedIncident, identityFile: string): Level[] {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bodycam-warning-out-'));
  return incident.segments.flatMap((seg) => {
    const dec = ageDecrypt(identityFile, seg.path, out);
    if (!dec.ok) throw new Error(dec.stderr);
    return audioLevels(dec.out);
  });
}

const speakerFiles = (dir: string) => readdirSync(path.join(dir, 'speaker')).sort();

describe('spoken warning on sim defaults', () => {
  const daemons: Daemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
  });

  itWith('sox', 'age')(
    'warns in nl, fr and de at every activation, proves it in the footage, and stays silent when told to',
    async () => {
      const camera = makeSimCamera((c) => {
        c['preRecord'].audio = true;
      });
      const daemon = new Daemon(camera);
      daemons.push(daemon);
      const ready = await daemon.waitFor((s) => s.ring.seconds >= 30, 90_000, '30 s of pre-roll');
      expect(ready.indication).toBe('standby');
      expect(ready.outputs?.led).toMatchObject({ red: 'off', green: 'on' });

      // A normal activation: the warning plays and the LED turns red.
      await daemon.press('record', 2);
      const recording = await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording');
      expect(recording.outputs?.led).toMatchObject({ red: 'on', green: 'off', indication: 'recording' });
      const activation = await daemon.waitForEvent('activation', 5_000);
      const given = await daemon.waitForEvent('warning_given', 30_000, activation.incidentId ?? '');
      expect(given.data['languages']).toEqual(['nl', 'fr', 'de']);

      const played = speakerFiles(camera.dir);
      expect(played).toEqual(['0001-tone.wav', '0002-warning-nl.wav', '0003-warning-fr.wav', '0004-warning-de.wav']);
      for (const f of played) expect(soxRms(path.join(camera.dir, 'speaker', f)), f).toBeGreaterThan(0.02);
      // The tone started within 300 ms of the activation (file written as it starts to play).
      const firstPlayed = statSync(path.join(camera.dir, 'speaker', played[0] ?? '')).mtimeMs;
      expect(firstPlayed - Date.parse(activation.at)).toBeLessThanOrEqual(300);
      expect(Date.parse(String(given.data['startedAt'])) - Date.parse(activation.at)).toBeLessThanOrEqual(300);

      await daemon.press('record', 1, 3500);
      const standby = await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
      expect(standby.outputs?.led).toMatchObject({ red: 'off', green: 'on', indication: 'standby' });
      expect(standby.outputs?.lastPlayed?.name).toBe('warning-de');

      // A silent activation: nothing played, the reason on the incident.
      await daemon.waitFor((s) => s.ring.seconds >= 30, 60_000, 'pre-roll again');
      await daemon.press('silent', 1);
      await daemon.waitFor((s) => s.state === 'recording', 10_000, 'silent recording');
      await new Promise((r) => setTimeout(r, 16_000));
      await daemon.press('record', 1, 3500);
      await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'silent stop');
      expect(speakerFiles(camera.dir)).toEqual(played);

      const [warned, silent] = list(camera);
      if (warned === undefined || silent === undefined) throw new Error('two incidents expected');
      expect(warned.warning).toMatchObject({ state: 'given', reason: null, languages: ['nl', 'fr', 'de'] });
      expect(silent.trigger).toBe('line:silent');
      expect(silent.warning).toMatchObject({ state: 'suppressed', reason: 'severity', startedAt: null });
      const silentEvents = (await daemon.events()).filter((e) => e.incidentId === silent.id).map((e) => e.kind);
      expect(silentEvents).toContain('warning_suppressed');

      // The footage carries the warning: its window is far louder than the room before the activation, and the
      // same window of the silent activation is not.
      const start = (warned.warning.startedMediaMs ?? Number.NaN) / 1000;
      const length = (warned.warning.durationMs ?? Number.NaN) / 1000;
      expect(length).toBeGreaterThan(5);
      const levels = incidentLevels(warned, camera.identityFile);
      const background = meanDb(levels, start - 20, start - 1);
      const inWindow = meanDb(levels, start + 0.6, start + length - 0.6);
      expect(inWindow - background).toBeGreaterThan(15);
      const quiet = incidentLevels(silent, camera.identityFile);
      const silentStart = silent.activationMediaMs / 1000 + (start - warned.activationMediaMs / 1000);
      expect(Math.abs(meanDb(quiet, silentStart + 0.6, silentStart + length - 0.6) - background)).toBeLessThan(3);
    },
    240_000,
  );
});

describe('stealth, refusal and a failing speaker', () => {
  const daemons: Daemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
  });

  itWith('age')(
    'stealth where allowed: no light, sound or vibration, logged with its reason',
    async () => {
      const camera = makeSimCamera((c) => {
        c['capture'].source = SMALL;
        c['preRecord'].seconds = 2;
      });
      const daemon = new Daemon(camera);
      daemons.push(daemon);
      await daemon.waitFor((s) => s.ring.seconds >= 2, 60_000, 'pre-roll');
      await daemon.press('silent', 1, 3500);
      const on = await daemon.waitFor((s) => s.outputs?.stealth === true, 10_000, 'stealth on');
      expect(on.outputs?.led).toMatchObject({ red: 'off', green: 'off', indication: 'stealth' });
      expect((await daemon.waitForEvent('stealth_on', 5_000)).data).toEqual({ reason: 'covert' });

      await daemon.press('record', 2);
      const rec = await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording in stealth');
      expect(rec.outputs).toMatchObject({ led: { red: 'off', green: 'off' }, vibration: { last: null } });
      await new Promise((r) => setTimeout(r, 3000));
      await daemon.press('record', 1, 3500);
      await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop in stealth');
      expect(() => speakerFiles(camera.dir)).toThrow(/ENOENT/); // the speaker never played
      expect(list(camera)[0]?.warning).toMatchObject({ state: 'suppressed', reason: 'stealth' });

      await daemon.press('silent', 1, 3500);
      await daemon.waitForEvent('stealth_off', 10_000);
      expect(daemon.log).toContain('stealth on: no lights, sounds or vibration');
    },
    90_000,
  );

  itWith('age')(
    'stealth where not allowed is refused, logged and told to the officer',
    async () => {
      const camera = makeSimCamera((c) => {
        c['capture'].source = SMALL;
        c['preRecord'].seconds = 2;
        c['stealth'].allowed = false;
      });
      const daemon = new Daemon(camera);
      daemons.push(daemon);
      await daemon.waitFor((s) => s.ring.seconds >= 2, 60_000, 'pre-roll');
      await daemon.press('silent', 1, 3500);
      expect((await daemon.waitForEvent('stealth_refused', 10_000)).data['from']).toBe('line:silent');
      const after = await daemon.waitFor((s) => s.outputs?.lastPlayed?.name === 'refused', 5_000, 'the refusal tone');
      expect(after.outputs).toMatchObject({
        stealth: false,
        vibration: { last: 'refused' },
        led: { indication: 'standby' },
      });
      expect(speakerFiles(camera.dir)).toEqual(['0001-refused.wav']);
      expect(daemon.log).toContain('stealth refused');
    },
    60_000,
  );

  itWith('age')(
    'a failing speaker: the camera still records, shows the fault and logs it',
    async () => {
      const camera = makeSimCamera((c) => {
        c['capture'].source = SMALL;
        c['preRecord'].seconds = 2;
      });
      const blocker = path.join(camera.dir, 'speaker-gone');
      writeFileSync(blocker, 'a file where the speaker should write');
      const config = (await import('node:fs')).readFileSync(camera.configFile, 'utf8');
      writeFileSync(camera.configFile, config.replace('"dir": "speaker"', '"dir": "speaker-gone/x"'));
      const daemon = new Daemon(camera);
      daemons.push(daemon);
      await daemon.waitFor((s) => s.ring.seconds >= 2, 60_000, 'pre-roll');
      await daemon.press('record', 2);
      const faulty = await daemon.waitFor(
        (s) => s.state === 'recording' && s.outputs?.led?.warning === 'speaker-fault',
        15_000,
        'speaker fault while recording',
      );
      expect(faulty.state).toBe('recording');
      expect(faulty.outputs?.led).toMatchObject({ red: 'on', green: 'wink', indication: 'recording' });
      const fault = await daemon.waitForEvent('speaker_fault', 5_000);
      expect(fault.data['code']).toBe('HAL_AUDIO_FAILED');
      expect(daemon.log).toContain('the speaker failed');
      const before = (await daemon.status()).capture.fragments;
      await new Promise((r) => setTimeout(r, 2500));
      expect((await daemon.status()).capture.fragments).toBeGreaterThan(before);
      await daemon.press('record', 1, 3500);
      await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
      const [incident] = list(camera);
      expect(incident?.warning.state).toBe('failed');
      expect(incident?.segments.every((s) => s.state === 'closed' && s.frames > 0)).toBe(true);
    },
    60_000,
  );
});
