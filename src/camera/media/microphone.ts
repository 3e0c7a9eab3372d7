/**
 * The microphone of a v4l2 or rpicam source, checked on its own: a failing microphone must never stop the video.
 * When a capture run with sound ends without delivering anything, capture opens the microphone alone for a tenth
 * of a second, exactly as the capture would; if that fails too, the microphone is at fault and capture goes on
 * video-only, probing it again until it works.
 */
import type { ProcessRunner } from '../../hal/process/port.ts';
import { alsaInput, type Microphone, type SourceConfig } from './sources.ts';

/** The microphone of a source that has one (v4l2 or rpicam with audio on), or undefined. */
export function microphoneOf(source: SourceConfig): Microphone | undefined {
  return source.kind !== 'synthetic' && source.audio ? source : undefined;
}

/** `ffmpeg` arguments that open the microphone as capture does, read 0.1 s, and discard it. */
export function microphoneProbeArgs(mic: Microphone): string[] {
  const input = alsaInput(mic);
  return ['-hide_banner', '-nostdin', ...input.options, '-i', input.url, '-t', '0.1', '-f', 'null', '-'];
}

export interface MicrophoneProbe {
  ok: boolean;
  /** Why it failed: ffmpeg's last lines (the ALSA error), or a timeout. Empty when ok. */
  message: string;
}

/** Lines of ffmpeg's stderr kept in a probe's message: the ALSA error and ffmpeg's summary of it. */
const MESSAGE_LINES = 3;

export async function probeMicrophone(
  processes: ProcessRunner,
  ffmpegPath: string,
  mic: Microphone,
  // Generous: a missing or mismatched microphone fails at once; a slow start (a loaded or emulated machine) is not
  // a fault.
  timeoutMs = 15_000,
): Promise<MicrophoneProbe> {
  const r = await processes.run({ command: ffmpegPath, args: microphoneProbeArgs(mic) }, { timeoutMs });
  if (r.error === undefined && r.code === 0 && !r.timedOut) return { ok: true, message: '' };
  if (r.timedOut) return { ok: false, message: `${mic.alsaDevice}: no sound within ${timeoutMs} ms` };
  const lines = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const tail = lines.slice(-MESSAGE_LINES).join(' | ');
  return { ok: false, message: tail || r.error?.message || `ffmpeg exited ${r.code ?? r.signal}` };
}
