/**
 * Lab scenario "warning": the speaker is the loopback's playback side and the microphone its capture side, so the
 * microphone hears what the speaker plays. One activation with the spoken warning, then a silent one.
 */
import { LabDaemon, recordIncident, step } from './common.ts';

const daemon = new LabDaemon();
try {
  // Recording lasts until the warning (nl, fr, de, about 15 s) has been given, then a second more; the silent one
  // as long as that at least.
  await recordIncident(daemon, 1000, 'record', () => daemon.waitForEvent('warning_given', 120_000));
  step('warned incident recorded');
  await recordIncident(daemon, 25_000, 'silent');
  await daemon.finish({ status: await daemon.status(), events: await daemon.events() });
} finally {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
}
