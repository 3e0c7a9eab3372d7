/**
 * Lab scenario "camera": the loopback is fed a tone at 1 or 2 channels (argv[2]) before the camera starts; the
 * camera (its microphone asked for as many channels at `hw:` level) buffers, records one incident, and stops.
 */
import { feedLoopback, LabDaemon, recordIncident, step, stopFeed } from './common.ts';

const channels = process.argv[2] === '2' ? 2 : 1;
const feed = feedLoopback(channels);
step(`feeding the loopback, ${channels} channel(s)`);
const daemon = new LabDaemon();
try {
  await recordIncident(daemon, 12_000);
  const status = await daemon.status();
  await daemon.finish({ status, events: await daemon.events() });
} finally {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  await stopFeed(feed);
}
