/**
 * A failing speaker shows in standby, before anyone needs it: the real daemon checks the speaker path at start and
 * every few seconds (file driver: its directory; alsa driver: a short silent play through the real aplay), shows its
 * own LED pattern on standby (not the one of full storage), writes the fault in the event log, and when an
 * activation's warning cannot be given the officer feels three long pulses. Once the speaker works again, so does
 * the camera's indication.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, list, makeSimCamera } from '../harness/daemon.ts';

const small = (c: Record<string, any>) => {
  c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 15, videoBitrateKbps: 400 };
  c['preRecord'].seconds = 2;
  c['feedback'] = { ...c['feedback'], speakerCheckSeconds: 2 };
};
const hasAplay = spawnSync('aplay', ['--version']).status === 0;

describe('speaker faults in standby', () => {
  const daemons: Daemon[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
  });

  it('file driver: a speaker that cannot play shows at start, gives "say it yourself" at an activation, and clears', async () => {
    const camera = makeSimCamera(small);
    const speaker = path.join(camera.dir, 'speaker');
    rmSync(speaker, { recursive: true, force: true });
    writeFileSync(speaker, 'not a directory: the simulated speaker is unplugged');
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    const standby = await daemon.waitFor(
      (s) => s.capture.state === 'running' && s.speaker.state === 'fault',
      60_000,
      'the speaker fault at start',
    );
    expect(standby.state).toBe('buffering');
    expect(standby.indication).toBe('standby');
    expect(standby.outputs?.led).toMatchObject({ red: 'wink', green: 'on', warning: 'speaker-fault' });
    expect(standby.speaker.message).toContain(speaker);
    await daemon.waitForEvent('speaker_fault', 10_000);

    // An activation: recording goes on; the warning could not be given, and the officer feels it.
    await daemon.waitFor((s) => s.ring.seconds >= 2, 30_000, 'pre-roll');
    await daemon.press('record', 2);
    await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording');
    await daemon.waitForEvent('warning_failed', 15_000);
    const told = await daemon.waitFor(
      (s) => s.outputs?.vibration.last === 'say-warning',
      10_000,
      'the "say it yourself" vibration',
    );
    expect(told.state).toBe('recording');
    expect(told.outputs?.led).toMatchObject({ red: 'on', green: 'wink' });
    await daemon.press('record', 1, 3500);
    await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
    expect(list(camera)[0]?.warning.state).toBe('failed');

    // The speaker is back: the next check clears the fault, and the checks played nothing.
    rmSync(speaker);
    const ok = await daemon.waitFor((s) => s.speaker.state === 'ok', 20_000, 'the speaker back');
    expect(ok.outputs?.led).toMatchObject({ red: 'off', green: 'on', warning: null });
    await daemon.waitForEvent('speaker_ok', 10_000);
    expect(existsSync(speaker) ? readdirSync(speaker) : []).toEqual([]);
  }, 120_000);

  it.skipIf(!hasAplay)(
    'alsa driver (needs aplay from alsa-utils): a device that does not exist shows at start',
    async () => {
      const camera = makeSimCamera((c) => {
        small(c);
        c['audio'] = { driver: 'alsa', device: 'bodycam_no_such_pcm' };
      });
      const daemon = new Daemon(camera);
      daemons.push(daemon);
      const standby = await daemon.waitFor(
        (s) => s.capture.state === 'running' && s.speaker.state === 'fault',
        60_000,
        'the speaker fault at start',
      );
      expect(standby.indication).toBe('standby');
      expect(standby.outputs?.led).toMatchObject({ red: 'wink', green: 'on', warning: 'speaker-fault' });
      expect(standby.speaker.message).toContain('bodycam_no_such_pcm');
      const fault = await daemon.waitForEvent('speaker_fault', 10_000);
      expect(String(fault.data['message'])).toContain('aplay');
    },
    90_000,
  );
});
