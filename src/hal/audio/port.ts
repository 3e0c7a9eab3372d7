/**
 * The audio output port: the speaker that plays the spoken warning to the person being filmed, and the officer's
 * tones. Drivers: `alsa` (aplay on the device), `file` (simulation: writes exactly what would have been played as
 * WAV files) and `none` (a board without a speaker). Clips are 16-bit PCM WAV.
 */

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  /** Always 16 here: what espeak-ng, sox and aplay agree on. */
  bitsPerSample: 16;
}

export interface AudioClip {
  /** Short name for logs and file names (e.g. `tone`, `warning-nl`). */
  name: string;
  /** A complete RIFF/WAVE file. */
  wav: Buffer;
  format: PcmFormat;
  durationMs: number;
}

export interface Played {
  /** Monotonic clock ms when playback started and ended. */
  startedAt: number;
  endedAt: number;
}

export interface AudioOutput {
  readonly kind: 'alsa' | 'file' | 'none';
  /**
   * Plays one clip to the end. Rejects with HAL_AUDIO_FAILED (the speaker or its driver failed; the message names
   * the device and what it said) and never throws synchronously. Clips play one at a time, in call order.
   * The `none` driver rejects every clip with HAL_AUDIO_UNAVAILABLE: a warning that was not played is never reported
   * as played.
   */
  play(clip: AudioClip): Promise<Played>;
  /** Stops what is playing and drops what is queued (their play() calls reject with HAL_AUDIO_STOPPED). */
  stop(): Promise<void>;
  /**
   * Checks the speaker path without an audible sound (alsa: a short silent play on the device; file: its directory
   * takes files; none: rejects). Rejects like play() when the path fails; runs in turn with the clips.
   */
  check(): Promise<void>;
}
