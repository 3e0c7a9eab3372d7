/**
 * Lab scenario "gpio": the camera on kernel GPIO lines. A gpio-sim bank labelled like the Pi 4's header chip carries
 * the board profile's lines; the daemon runs with the `onoff` driver as the `bodycam` user (groups video, audio,
 * gpio, i2c; udev's rights applied by a stand-in). Switches are worked by setting the lines' simulated pulls; the
 * LED and motor lines are sampled from the kernel. The dock's broker runs here too, so the dock line's session is
 * seen by the dock agent's own MQTT identity. Everything observed goes to result.json for the host to judge.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { agentTls, connectMqtt, startBroker } from '../../harness/broker.ts';
import { LabDaemon, sleep, step } from './common.ts';
import {
  addBodycamUser,
  bouncyPress,
  createBank,
  type LineSpec,
  sample,
  setActive,
  UdevStandIn,
} from './kernel-lines.ts';

const OUT = process.env['LAB_OUT'] ?? '/tmp/lab-out';
const config = JSON.parse(readFileSync(`${OUT}/cam/config.json`, 'utf8')) as {
  gpio: { chip: string; inputs: Record<string, LineSpec>; outputs: Record<string, LineSpec> };
  dock: { port: number };
};
const { inputs, outputs } = config.gpio;
const line = (name: string): LineSpec => {
  const l = inputs[name];
  if (l === undefined) throw new Error(`the profile has no input ${name}`);
  return l;
};
const names = Object.fromEntries([...Object.entries(inputs), ...Object.entries(outputs)].map(([n, l]) => [n, l.pin]));
const bank = createBank(config.gpio.chip, 58, names);
for (const name of Object.keys(inputs)) setActive(bank, line(name), false);

const user = addBodycamUser();
const udev = new UdevStandIn(user.groups);
udev.start();

// The dock's managed Mosquitto on loopback (brought up: the lab's init configures no network), from the dock
// directory made on the host, its paths rewritten to this copy.
execFileSync('ip', ['link', 'set', 'lo', 'up']);
execFileSync('cp', ['-a', `${OUT}/dock`, '/tmp/lab-dock']);
const conf = '/tmp/lab-dock/broker/mosquitto.conf';
const from = process.env['LAB_DOCK_FROM'] ?? '';
execFileSync('sed', ['-i', `s|${from}|/tmp/lab-dock|g`, conf]);
const broker = await startBroker('/tmp/lab-dock');
const agent = await connectMqtt(config.dock.port, agentTls('/tmp/lab-dock'), { timeoutMs: 60_000 });
const hellos: Array<{ at: number; topic: string; body: Record<string, unknown> }> = [];
agent.on('message', (topic, payload) => {
  if (topic.endsWith('/up/hello')) hellos.push({ at: Date.now(), topic, body: JSON.parse(payload.toString()) });
});
await agent.subscribeAsync('bodycam/cam/+/up/hello', { qos: 1 });
step('dock broker up, agent subscribed');

const leds = { ledRed: outputs['ledRed'] as LineSpec, ledGreen: outputs['ledGreen'] as LineSpec };
const all = { ...leds, haptic: outputs['haptic'] as LineSpec };
const daemon = new LabDaemon(user);
const result: Record<string, unknown> = {
  kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  chip: { name: bank.chip, label: bank.label, base: bank.base },
};
try {
  await daemon.waitFor((s) => s.ring.seconds >= 3, 240_000, 'the pre-roll');
  const ps = ['-o', 'user=,group=,supgrp=', '-p', String(daemon.child.pid)];
  result['daemonUser'] = execFileSync('ps', ps, { encoding: 'utf8' }).trim().split(/\s+/);
  result['standby'] = await sample(bank, all, 1500);

  // One press whose contacts bounce (edges 1 ms apart): one press, not a double press, so nothing starts.
  await bouncyPress(bank, line('record'), 120);
  await sleep(2000);
  result['afterBouncySingle'] = (await daemon.status()).state;

  // A double press, each press bouncing: recording starts.
  await bouncyPress(bank, line('record'), 120);
  await sleep(150);
  await bouncyPress(bank, line('record'), 120);
  result['doublePressAt'] = Date.now();
  result['startCue'] = await sample(bank, all, 3000, 10);
  const recording = await daemon.waitFor((s) => s.state === 'recording', 60_000, 'recording after the double press');
  result['recordingStatus'] = recording;
  result['recording'] = await sample(bank, all, 1500);
  await sleep(4000);

  // A 3 s hold stops it.
  setActive(bank, line('record'), true);
  result['holdFrom'] = Date.now();
  await sleep(3600);
  setActive(bank, line('record'), false);
  await daemon.waitFor((s) => s.state === 'buffering', 120_000, 'the stop after the hold');
  result['afterStop'] = await sample(bank, all, 1000);

  // The trigger line starts recording on its edge; the record hold stops it.
  setActive(bank, line('trigger'), true);
  await sleep(300);
  setActive(bank, line('trigger'), false);
  await daemon.waitFor((s) => s.state === 'recording', 60_000, 'recording after the trigger edge');
  await sleep(3000);
  setActive(bank, line('record'), true);
  await sleep(3600);
  setActive(bank, line('record'), false);
  await daemon.waitFor((s) => s.state === 'buffering', 120_000, 'the stop after the trigger recording');

  // The dock line: the camera opens a session with the dock (its hello reaches the dock agent).
  setActive(bank, line('dock'), true);
  result['dockedAt'] = Date.now();
  result['docked'] = await daemon.waitFor((s) => s.sync?.connected === true, 120_000, 'the dock session');
  const deadline = Date.now() + 60_000;
  while (hellos.length === 0 && Date.now() < deadline) await sleep(200);
  result['hellos'] = hellos;
  setActive(bank, line('dock'), false);
  result['undocked'] = await daemon.waitFor((s) => s.sync?.docked === false, 60_000, 'undocked');

  // A capture fault: ffmpeg killed; the red LED blinks until capture runs again.
  const ffmpeg = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .find((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0]?.endsWith('ffmpeg') === true;
      } catch {
        return false;
      }
    });
  if (ffmpeg === undefined) throw new Error('no ffmpeg process to kill');
  process.kill(Number(ffmpeg), 'SIGKILL');
  step(`killed ffmpeg ${ffmpeg}`);
  await daemon.waitFor((s) => s.indication === 'capture-fault', 30_000, 'the capture fault shown');
  result['captureFault'] = await sample(bank, all, 2500);
  await daemon.waitFor((s) => s.indication === 'standby', 240_000, 'capture running again');

  result['status'] = await daemon.status();
  await daemon.finish({ ...result, events: await daemon.events() });
} finally {
  if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  udev.stop();
  await agent.endAsync(true).catch(() => undefined);
  await broker.stop();
}
