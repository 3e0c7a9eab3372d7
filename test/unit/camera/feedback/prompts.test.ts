import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeMissingPrompts,
  espeakArgs,
  generatePrompts,
  loadWarningClips,
  promptFile,
} from '../../../../src/camera/feedback/prompts.ts';
import { DEFAULT_PHRASES } from '../../../../src/config/feedback-schema.ts';
import { clipFromWav, toneClip } from '../../../../src/hal/audio/wav.ts';
import { NodeProcessRunner } from '../../../../src/hal/process/node.ts';
import { ScriptedProcesses } from '../../../../src/hal/process/scripted.ts';
import { isBodycamError } from '../../../../src/lib/errors.ts';
import { itWith } from '../../../harness/tools.ts';

const settings = (promptsDir: string) => ({
  languages: ['nl', 'fr'] as const,
  phrases: DEFAULT_PHRASES,
  promptsDir,
  toneHz: 880,
  toneMs: 400,
});
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bodycam-prompts-'));

describe('warning prompts', () => {
  it('asks espeak-ng for one WAV per language, keeps existing files unless forced', async () => {
    const dir = tmp();
    const processes = new ScriptedProcesses().define('espeak-ng', (call) => {
      const out = call.args[call.args.indexOf('-w') + 1] ?? '';
      writeFileSync(out, toneClip('x', { frequencyHz: 440, durationMs: 300 }).wav);
      call.exit(0);
    });
    writeFileSync(promptFile(dir, 'fr'), 'a recorded human voice');
    const first = await generatePrompts(processes, settings(dir), { force: false });
    expect(first).toEqual({ written: [promptFile(dir, 'nl')], kept: [promptFile(dir, 'fr')] });
    expect(processes.calls.map((c) => c.args)).toEqual([espeakArgs('nl', promptFile(dir, 'nl'), DEFAULT_PHRASES.nl)]);
    expect(espeakArgs('de', '/p/warning-de.wav', 'Achtung.')).toEqual([
      '-v',
      'de',
      '-s',
      '165',
      '-w',
      '/p/warning-de.wav',
      '--',
      'Achtung.',
    ]);
    const forced = await generatePrompts(processes, settings(dir), { force: true });
    expect(forced.written).toHaveLength(2);
  });

  it('says how to install espeak-ng when it is missing', async () => {
    const error = await generatePrompts(new ScriptedProcesses(), settings(tmp()), { force: false }).catch(
      (e: unknown) => e,
    );
    expect(isBodycamError(error, 'HAL_AUDIO_FAILED')).toBe(true);
    expect((error as Error).message).toContain('apt-get install espeak-ng');
  });

  it('loads the prompts that are there and names each missing or unusable one with the fix, never throwing', async () => {
    const dir = tmp();
    writeFileSync(promptFile(dir, 'nl'), toneClip('x', { frequencyHz: 440, durationMs: 300 }).wav);
    const partial = await loadWarningClips(settings(dir));
    expect(partial.phrases.map((p) => p.language)).toEqual(['nl']);
    expect(partial.missing).toEqual([{ language: 'fr', file: promptFile(dir, 'fr'), problem: 'is missing' }]);
    const described = describeMissingPrompts(partial.missing, '/etc/bodycam/config.json');
    expect(described.message).toBe(`warning prompt ${promptFile(dir, 'fr')} is missing`);
    expect(described.fix).toContain('bodycam prompts --config /etc/bodycam/config.json');
    writeFileSync(promptFile(dir, 'fr'), 'not a wav');
    const bad = await loadWarningClips(settings(dir));
    expect(bad.missing.map((m) => [m.language, m.problem])).toEqual([
      ['fr', expect.stringMatching(/^is not a usable WAV file/)],
    ]);
    const none = await loadWarningClips(settings(tmp()));
    expect([none.phrases, none.missing.map((m) => m.language)]).toEqual([[], ['nl', 'fr']]);
  });

  it('loads the tone and the phrases in the configured order', async () => {
    const dir = tmp();
    for (const [i, lang] of (['nl', 'fr'] as const).entries()) {
      writeFileSync(promptFile(dir, lang), toneClip('x', { frequencyHz: 300 + i * 100, durationMs: 500 }).wav);
    }
    const clips = await loadWarningClips(settings(dir));
    expect(clips.phrases.map((p) => [p.language, p.clip.name])).toEqual([
      ['nl', 'warning-nl'],
      ['fr', 'warning-fr'],
    ]);
    expect(clips.tone.durationMs).toBeCloseTo(550, 0); // 400 ms of tone and a 150 ms pause
  });

  it('does not report a prompt espeak-ng exited 0 without writing', async () => {
    const processes = new ScriptedProcesses().define('espeak-ng', (call) => call.exit(0));
    const error = await generatePrompts(processes, settings(tmp()), { force: false }).catch((e: unknown) => e);
    expect(isBodycamError(error, 'HAL_AUDIO_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/warning-nl\.wav: espeak-ng exited 0 but it wrote no file/);
  });

  it('never writes through a symbolic link or into a directory others can write', async () => {
    const dir = tmp();
    const victim = path.join(tmp(), 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, promptFile(dir, 'nl'));
    const processes = new ScriptedProcesses().define('espeak-ng', (call) => call.exit(0));
    const linked = await generatePrompts(processes, settings(dir), { force: true }).catch((e: unknown) => e);
    expect(isBodycamError(linked, 'USAGE')).toBe(true);
    expect((linked as Error).message).toContain('not a regular file');
    expect(processes.calls).toHaveLength(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    const open = tmp();
    chmodSync(open, 0o777);
    const shared = await generatePrompts(processes, settings(open), { force: false }).catch((e: unknown) => e);
    expect((shared as Error).message).toContain('is writable by others (mode 777)');
    expect(processes.calls).toHaveLength(0);
  });

  itWith('espeak-ng')('speaks a phrase that begins with "-" instead of taking it for an option', async () => {
    const dir = tmp();
    const s = {
      ...settings(dir),
      languages: ['en'] as const,
      phrases: { ...DEFAULT_PHRASES, en: '-q you are filmed' },
    };
    const r = await generatePrompts(new NodeProcessRunner(), s, { force: false });
    expect(r.written).toEqual([promptFile(dir, 'en')]);
    expect(clipFromWav('en', readFileSync(promptFile(dir, 'en'))).durationMs).toBeGreaterThan(700);
  });

  itWith('espeak-ng')('speaks every default phrase with the real espeak-ng', async () => {
    const dir = tmp();
    const all = { ...settings(dir), languages: ['nl', 'fr', 'de', 'en'] as const };
    await generatePrompts(new NodeProcessRunner(), all, { force: false });
    for (const lang of all.languages) {
      const clip = clipFromWav(lang, readFileSync(promptFile(dir, lang)));
      expect(clip.format).toEqual({ sampleRate: 22_050, channels: 1, bitsPerSample: 16 });
      expect(clip.durationMs).toBeGreaterThan(1500);
      expect(clip.durationMs).toBeLessThan(8000);
    }
  });
});
