import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { Clock } from '../clock/port.ts';
import type { ProcessRunner } from '../process/port.ts';
import { AlsaAudio } from './alsa.ts';
import { FileAudio, NoAudio } from './file.ts';
import type { AudioOutput } from './port.ts';
import type { RoomSink } from './room.ts';

export type AudioDriverKind = AudioOutput['kind'];

export const AUDIO_DRIVER_KINDS: readonly AudioDriverKind[] = ['alsa', 'file', 'none'];

/** ALSA's default PCM, used when no device is configured. */
export const DEFAULT_ALSA_DEVICE = 'default';

export interface AudioConfig {
  driver: AudioDriverKind;
  /** alsa only: the ALSA PCM name (default `default`). */
  device?: string;
  /** file only: where played clips are written. */
  dir?: string;
  /** file only: the simulated room that hears what is played. */
  room?: RoomSink;
}

export interface AudioDeps {
  processes: ProcessRunner;
  clock: Clock;
}

/**
 * The one place that picks an audio driver; the composition root calls it. Nothing is spawned or written until
 * the first clip plays, so a missing aplay shows up as a HAL_AUDIO_FAILED play() with the fix in its message.
 */
export function createAudioOutput(config: AudioConfig, deps: AudioDeps): AudioOutput {
  switch (config.driver) {
    case 'alsa':
      return new AlsaAudio({ device: config.device ?? DEFAULT_ALSA_DEVICE, ...deps });
    case 'file':
      if (config.dir === undefined) {
        throw new BodycamError(ErrorCode.HAL_AUDIO_UNAVAILABLE, `the file audio driver needs a directory (audio.dir)`, {
          driver: 'file',
        });
      }
      return new FileAudio({
        dir: config.dir,
        clock: deps.clock,
        ...(config.room === undefined ? {} : { room: config.room }),
      });
    case 'none':
      return new NoAudio();
    default:
      throw new BodycamError(
        ErrorCode.HAL_AUDIO_UNAVAILABLE,
        `unknown audio driver '${String(config.driver)}'; use one of ${AUDIO_DRIVER_KINDS.join(', ')} (none for a board without a speaker)`,
        { driver: config.driver },
      );
  }
}

export { AlsaAudio, aplayArgs } from './alsa.ts';
export { FileAudio, NoAudio } from './file.ts';
export type { AudioClip, AudioOutput, PcmFormat, Played } from './port.ts';
export { clipFromWav, concatClips, silenceClip, toneClip } from './wav.ts';
