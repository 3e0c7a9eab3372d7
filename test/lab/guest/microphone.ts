/**
 * Lab scenario "microphone": the loopback is fed mono while the camera asks its microphone for two channels at
 * `hw:` level, so ALSA refuses ("cannot set channel count"), as a mono USB microphone does. The camera must record
 * video without sound, show the fault and log it; once the feed turns stereo, its retry finds the microphone and
 * capture goes on with sound.
 */
import { feedLoopback, LabDaemon, recordIncident, step, stopFeed } from './common.ts';

let feed = feedLoopback(1);
step('feeding the loopback mono; the camera asks for stereo');
const daemon = new LabDaemon();
try {
  const faulty = await daemon.waitFor(
    (s) => s.capture.microphone?.state === 'fault' && s.capture.fragments > 0,
    240_000,
    'video without the microphone',
  );
  await recordIncident(daemon, 8000);
  await stopFeed(feed);
  feed = feedLoopback(2);
  step('feeding the loopback stereo');
  const recovered = await daemon.waitFor((s) => s.capture.microphone?.state === 'ok', 120_000, 'the microphone back');
  const withSound = await daemon.waitFor(
    (s) => s.capture.state === 'running' && s.capture.fragments > recovered.capture.fragments + 4,
    120_000,
    'capture with sound',
  );
  await daemon.finish({ status: withSound, faulty, events: await daemon.events() });
} finally {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  await stopFeed(feed);
}
