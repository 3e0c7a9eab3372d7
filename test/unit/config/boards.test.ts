import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  boardAudioConfig,
  boardSourceConfig,
  knownBoards,
  loadBoard,
  parseBoard,
  wiringSummary,
} from '../../../src/config/boards.ts';
import { BodycamError } from '../../../src/lib/errors.ts';

/** The JSON document of a shipped profile, to be broken by a test. */
interface ProfileDoc {
  inputs: Record<string, { pin: number }>;
  wiring: Array<{ part: string; header?: number; connect: string }>;
  camera: Record<string, unknown>;
  configTxt: unknown[];
}
const raw = (name: string): ProfileDoc =>
  JSON.parse(readFileSync(new URL(`../../../hardware/boards/${name}.json`, import.meta.url), 'utf8'));

function problemsOf(doc: unknown): string {
  try {
    parseBoard(doc, 'test');
  } catch (e) {
    expect(e).toBeInstanceOf(BodycamError);
    return (e as Error).message;
  }
  throw new Error('the profile was accepted');
}

describe('board profiles', () => {
  it('ships sim and the real boards, each valid', () => {
    expect(knownBoards()).toEqual(['cm4', 'pi4', 'pi5', 'sim', 'zero2w']);
    for (const name of knownBoards()) expect(loadBoard(name).board).toBe(name);
  });

  it('uses the hardware encoder where the board has one and libx264 on the Pi 5', () => {
    expect(loadBoard('pi4').encoder).toBe('h264_v4l2m2m');
    expect(loadBoard('cm4').encoder).toBe('h264_v4l2m2m');
    expect(loadBoard('zero2w').encoder).toBe('h264_v4l2m2m');
    expect(loadBoard('pi5').encoder).toBe('libx264');
  });

  it('turns a v4l2 profile into a capture source with its microphone format', () => {
    expect(boardSourceConfig(loadBoard('pi4'))).toMatchObject({
      kind: 'v4l2',
      device: '/dev/video0',
      encoder: 'h264_v4l2m2m',
      inputFormat: 'mjpeg',
      alsaDevice: 'plughw:CARD=Device',
      audioChannels: 1,
      audioRate: 48000,
    });
    expect(boardAudioConfig(loadBoard('pi4'))).toEqual({ driver: 'alsa', device: 'plughw:CARD=Headphones' });
    expect(boardSourceConfig(loadBoard('sim'))).toMatchObject({ kind: 'synthetic' });
  });

  it('refuses a pin used twice, a wiring row on the wrong header pin and a v4l2 camera without a device', () => {
    const doc = raw('pi4');
    doc.inputs['trigger'] = { ...doc.inputs['trigger'], pin: 5 };
    expect(problemsOf(doc)).toMatch(/inputs\.trigger\.pin: BCM 5 is used twice \(also inputs\.record\)/);

    const wrong = raw('pi4');
    wrong.wiring[0] = {
      part: 'record',
      header: 30,
      connect: 'button',
    };
    expect(problemsOf(wrong)).toMatch(/wiring\.record: BCM 5 is header pin 29, not 30/);

    const nodev = raw('pi4');
    delete nodev.camera['device'];
    expect(problemsOf(nodev)).toMatch(/camera\.device: a v4l2 camera needs its device node/);
  });

  it('names an unknown key and a bad config.txt line', () => {
    expect(problemsOf({ ...raw('sim'), colour: 'red' })).toMatch(/colour/);
    const bad = raw('pi4');
    bad.configTxt.push({ line: 'rm -rf /', why: 'no' });
    const at = bad.configTxt.length - 1;
    expect(problemsOf(bad)).toMatch(new RegExp(`configTxt\\.${at}\\.line: a config.txt line`));
  });

  it('prints the wiring with BCM and header pins and polarity', () => {
    const rows = wiringSummary(loadBoard('pi4'));
    expect(rows[0]).toMatch(/^record\s+BCM 5 \(pin 29\)\s+push button to GND \[active low, pull up\]$/);
    expect(rows.some((r) => r.startsWith('speaker'))).toBe(true);
  });
});
