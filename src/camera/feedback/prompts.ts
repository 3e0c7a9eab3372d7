/**
 * The spoken warning's prompts: WAV files `warning-<lang>.wav` in `warning.promptsDir`, made from the configured
 * texts by espeak-ng (`bodycam init`, `provision`, `prompts`, and `upgrade`, which the package runs) and replaceable
 * by recordings of a human voice (16-bit PCM; 22050 Hz mono is what the simulation's microphone mixes). Loaded once
 * at start-up. A missing or unreadable prompt never stops the camera: the languages that load are played, the
 * others are named as missing (a fault shown to the officer and logged, with the fix), and the incident records that
 * the warning was not fully given.
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Language } from '../../config/feedback-schema.ts';
import type { AudioClip } from '../../hal/audio/port.ts';
import { clipFromWav, concatClips, silenceClip, toneClip } from '../../hal/audio/wav.ts';
import type { ProcessRunner } from '../../hal/process/port.ts';
import { BodycamError, ErrorCode, errnoCode } from '../../lib/errors.ts';
import { privateDirectory } from '../../lib/fs.ts';

export interface PromptSettings {
  languages: readonly Language[];
  phrases: Readonly<Record<Language, string>>;
  promptsDir: string;
  toneHz: number;
  toneMs: number;
}

export interface WarningClips {
  /** The attention tone that comes first (also the officer's start tone). */
  tone: AudioClip;
  /** One clip per configured language whose prompt loads, in the configured order. */
  phrases: Array<{ language: Language; clip: AudioClip }>;
  /** Configured languages whose prompt is missing or unusable, with why (empty when every prompt loads). */
  missing: MissingPrompt[];
}

export interface MissingPrompt {
  language: Language;
  file: string;
  /** What is wrong with the file, e.g. `is missing`. */
  problem: string;
}

export function promptFile(dir: string, language: Language): string {
  return path.join(dir, `warning-${language}.wav`);
}

/** The attention tone: a sine with a short pause after it, so the first word is not lost in it. */
export function attentionTone(hz: number, ms: number): AudioClip {
  return concatClips('tone', [
    toneClip('tone', { frequencyHz: hz, durationMs: ms, amplitude: 0.6 }),
    silenceClip('pause', { durationMs: 150 }),
  ]);
}

/** The reminder while recording: two short high beeps. */
export function reminderTone(): AudioClip {
  const beep = toneClip('beep', { frequencyHz: 1320, durationMs: 90, amplitude: 0.5 });
  return concatClips('reminder', [beep, silenceClip('gap', { durationMs: 90 }), beep]);
}

/** A refused request (stealth where policy forbids it): one low buzz. */
export function refusedTone(): AudioClip {
  return toneClip('refused', { frequencyHz: 330, durationMs: 350, amplitude: 0.5 });
}

/** Loads every configured prompt that is there; the others are listed in `missing`, never thrown. */
export async function loadWarningClips(s: PromptSettings): Promise<WarningClips> {
  const phrases: WarningClips['phrases'] = [];
  const missing: MissingPrompt[] = [];
  for (const language of s.languages) {
    const file = promptFile(s.promptsDir, language);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      const problem =
        errnoCode(e) === 'ENOENT' ? 'is missing' : `cannot be read (${errnoCode(e) ?? (e as Error).message})`;
      missing.push({ language, file, problem });
      continue;
    }
    try {
      phrases.push({ language, clip: clipFromWav(`warning-${language}`, bytes) });
    } catch (e) {
      missing.push({ language, file, problem: `is not a usable WAV file (${(e as Error).message})` });
    }
  }
  return { tone: attentionTone(s.toneHz, s.toneMs), phrases, missing };
}

/** What is wrong with the prompts, in one line, and the fix (for the fault, the event log and doctor). */
export function describeMissingPrompts(
  missing: readonly MissingPrompt[],
  configFile = 'the config file',
): { message: string; fix: string } {
  return {
    message: missing.map((m) => `warning prompt ${m.file} ${m.problem}`).join('; '),
    fix:
      `make them with \`bodycam prompts --config ${configFile}\` (needs espeak-ng), or put a recorded 16-bit PCM WAV ` +
      'there (warning.promptsDir); until then the warning is not given in those languages: warn orally',
  };
}

/**
 * espeak-ng's arguments for one prompt: the language's voice, written to a WAV file. The text comes after `--`, so a
 * phrase that begins with `-` is spoken, not taken for an option.
 */
export function espeakArgs(language: Language, file: string, text: string): string[] {
  return ['-v', language, '-s', '165', '-w', file, '--', text];
}

/**
 * Writes `warning-<lang>.wav` for each configured language with espeak-ng. Existing files are kept (they may be
 * recordings of a human voice) unless `force`. Returns what was written and what was kept.
 */
export async function generatePrompts(
  processes: ProcessRunner,
  s: Pick<PromptSettings, 'languages' | 'phrases' | 'promptsDir'>,
  options: { force: boolean },
): Promise<{ written: string[]; kept: string[] }> {
  await privateDirectory(s.promptsDir);
  const written: string[] = [];
  const kept: string[] = [];
  for (const language of s.languages) {
    const file = promptFile(s.promptsDir, language);
    const found = await lstat(file).catch(() => null);
    if (found !== null && !found.isFile()) {
      throw new BodycamError(
        ErrorCode.USAGE,
        `${file} is not a regular file (a symbolic link or a directory): remove it, then make the prompts again`,
        { file },
      );
    }
    if (found !== null && !options.force) {
      kept.push(file);
      continue;
    }
    const r = await processes.run(
      { command: 'espeak-ng', args: espeakArgs(language, file, s.phrases[language]) },
      { timeoutMs: 30_000 },
    );
    if (r.error !== undefined || r.code !== 0) {
      const why =
        errnoCode(r.error) === 'ENOENT'
          ? 'espeak-ng is not installed (apt-get install espeak-ng)'
          : `espeak-ng failed: ${r.stderr.trim() || r.error?.message || `exit ${r.code ?? r.signal}`}`;
      throw new BodycamError(ErrorCode.HAL_AUDIO_FAILED, `cannot make the ${language} warning prompt ${file}: ${why}`, {
        file,
      });
    }
    // espeak-ng may exit 0 without writing anything; only a file that loads as a prompt counts as written.
    try {
      clipFromWav(`warning-${language}`, await readFile(file));
    } catch (e) {
      const why = errnoCode(e) === 'ENOENT' ? 'it wrote no file' : `it wrote no usable WAV (${(e as Error).message})`;
      throw new BodycamError(
        ErrorCode.HAL_AUDIO_FAILED,
        `cannot make the ${language} warning prompt ${file}: espeak-ng exited 0 but ${why}`,
        { file },
      );
    }
    written.push(file);
  }
  return { written, kept };
}
