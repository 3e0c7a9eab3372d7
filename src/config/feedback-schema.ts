import { s } from './schema-kit.ts';

/**
 * The parts of the configuration that speak to people: the spoken warning to the person being filmed, the
 * speaker it plays on, what the officer feels and hears, and the policy for silent activation and stealth.
 */

export const LANGUAGES = ['nl', 'fr', 'de', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Reasons a warning may be suppressed or stealth entered, as supervisors review them. */
export const REASONS = ['crowd', 'severity', 'covert', 'other'] as const;
export type Reason = (typeof REASONS)[number];

/** The phrases a Belgian zone plays by default (police function act, art. 25/3: an oral warning). */
export const DEFAULT_PHRASES: Readonly<Record<Language, string>> = {
  nl: 'Opgelet. Deze interventie wordt gefilmd met een bodycamera.',
  fr: 'Attention. Cette intervention est filmée par une caméra corporelle.',
  de: 'Achtung. Dieser Einsatz wird mit einer Körperkamera gefilmt.',
  en: 'Attention. This intervention is being recorded by a body-worn camera.',
};

const phrase = (lang: Language) =>
  s.string().nonEmpty().default(DEFAULT_PHRASES[lang]).describe(`text of the ${lang} warning (spoken by espeak-ng)`);

export const warningSchema = s
  .object({
    enabled: s.boolean().default(true).describe('speak the warning on every activation that is not silent'),
    languages: s
      .array(s.enum(LANGUAGES))
      .min(1, 'at least one language; the board profile lists the zone default (Belgium: nl, fr, de)')
      .default(['nl', 'fr', 'de'])
      .describe('languages of the warning, in the order they are played'),
    phrases: s
      .object({ nl: phrase('nl'), fr: phrase('fr'), de: phrase('de'), en: phrase('en') })
      .default({})
      .describe('warning texts; `bodycam prompts` turns them into WAV files'),
    promptsDir: s
      .string()
      .nonEmpty()
      .default('prompts')
      .describe('where warning-<lang>.wav live (relative to the config file); replace them with recorded voices'),
    toneHz: s.int(200, 4000, 880, 'pitch of the attention tone before the warning, Hz'),
    toneMs: s.int(50, 2000, 400, 'length of the attention tone, ms'),
  })
  .default({})
  .describe('the spoken warning to the person being filmed');

export const audioSchema = s
  .object({
    driver: s
      .enum(['alsa', 'file', 'none'])
      .default('file')
      .describe('alsa (the speaker, via aplay), file (simulation: WAV files), none (no speaker: a fault)'),
    device: s.string().nonEmpty().default('default').describe('ALSA playback device (alsa driver)'),
    dir: s
      .string()
      .nonEmpty()
      .default('speaker')
      .describe('where the file driver writes what it plays (relative to the config file)'),
    roomToMicrophone: s
      .boolean()
      .default(true)
      .describe('simulation: the synthetic microphone hears what the file driver plays, as a real one would'),
  })
  .default({})
  .describe('the speaker');

export const feedbackSchema = s
  .object({
    reminderSeconds: s.int(0, 3600, 120, 'while recording, a reminder tone and pulse this often, s (0: none)'),
    startTone: s
      .boolean()
      .default(true)
      .describe('play the attention tone at an activation when the warning is disabled (the warning starts with it)'),
    hapticPulseMs: s.int(50, 1000, 150, 'length of one vibration pulse, ms'),
    storageLowMb: s.int(0, 1_000_000, 1024, 'free space below which storage shows as low, MB'),
  })
  .default({})
  .describe('what the officer sees, hears and feels');

export const stealthSchema = s
  .object({
    allowed: s.boolean().default(false).describe('whether the officer may switch off lights, sounds and vibration'),
    reason: s.enum(REASONS).default('covert').describe('reason recorded when stealth is entered from the camera'),
  })
  .default({})
  .describe('stealth mode (no lights, sounds or vibration), only where policy allows it');
