/**
 * bodycam in the comparison: the camera as `bodycam run` builds it (the same Camera class and a config from the
 * same code as `init --board sim`, as scripts/bench/activation.ts drives it), with the `rpicam` source, whose
 * producer is the fed H.264 stream (`cat` of the comparison's FIFO instead of rpicam-vid): ffmpeg copies it into
 * fMP4, the ring holds 30 s, activation seals it with age. Durable: the first `segment.synced` after activate().
 * The simulated speaker (the `file` driver, a stand-in for aplay, which writes nothing to the card) writes what it
 * plays to a directory in /dev/shm, so that the card's write counts (card.ts) hold the camera's writes only.
 *
 *   node bodycam-worker.ts --feed FIFO --out DIR --preroll 30 --fps 30 --kbps 8000 --width 1920 --height 1080
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateIdentity } from '../../../src/age/keys.ts';
import { generatePrompts } from '../../../src/camera/feedback/prompts.ts';
import { createDeviceIdentity } from '../../../src/camera/identity.ts';
import { Camera } from '../../../src/camera/main.ts';
import { buildInitialConfig } from '../../../src/cli/init.ts';
import { validateConfig } from '../../../src/config/load.ts';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { args, commands, need, report } from './protocol.ts';

const a = args();
const dir = need(a, '--out');
const producer = path.join(dir, 'feed.sh');
writeFileSync(producer, `#!/bin/sh\nexec cat ${JSON.stringify(need(a, '--feed'))}\n`);
chmodSync(producer, 0o755);

const { identity, recipient } = generateIdentity();
const raw = buildInitialConfig({ dir, recipient: [recipient], board: 'sim', deviceId: 'compare', force: false });
raw['capture'] = {
  source: {
    kind: 'rpicam',
    width: Number(need(a, '--width')),
    height: Number(need(a, '--height')),
    fps: Number(need(a, '--fps')),
    gopSeconds: 1,
    videoBitrateKbps: Number(need(a, '--kbps')),
    audio: false,
    rpicamPath: producer,
  },
};
raw['preRecord'] = { seconds: Number(need(a, '--preroll')), audio: false };
const speakerDir = mkdtempSync('/dev/shm/bodycam-compare-speaker-');
raw['audio'] = { driver: 'file', dir: speakerDir };
const checked = validateConfig(raw, dir);
if (!checked.ok) throw new Error(`bodycam config: ${JSON.stringify(checked.problems)}`);
const config = checked.config;
await generatePrompts(new NodeProcessRunner(), config.warning, { force: false });
await createDeviceIdentity(config.evidence.keyFile);
const camera = new Camera(config, silentLogger());
const bus = camera.bus;

const sealed = new Map<string, string[]>();
bus.on('segment.sealed', (s) => sealed.set(s.incidentId, [...(sealed.get(s.incidentId) ?? []), s.path]));
const opened = new Map<string, string>();
bus.on('segment.opened', (s) => {
  if (s.seq === 0 || !opened.has(s.incidentId)) opened.set(s.incidentId, s.path);
});

let current: { id: number; incident: string } | undefined;
await camera.start();
report({ event: 'ready', identity });

await commands(async (c) => {
  if (c.cmd === 'trigger') {
    const t0 = performance.now();
    const synced = new Promise<number>((resolve) => {
      const off = bus.on('segment.synced', (s) => {
        off();
        resolve(s.bytes);
      });
    });
    const incident = camera.activate('compare');
    if (incident === null) throw new Error('the camera did not start recording');
    current = { id: c.id, incident };
    const bytes = await synced;
    const ms = performance.now() - t0;
    report({ event: 'durable', id: c.id, ms, bytes, files: [opened.get(incident) ?? ''] });
  } else if (c.cmd === 'stop' && current !== undefined) {
    const { id, incident } = current;
    current = undefined;
    const closed = new Promise<void>((resolve) => {
      const off = bus.on('incident.closed', () => {
        off();
        resolve();
      });
    });
    camera.stopRecording('compare');
    await closed;
    report({ event: 'stopped', id, files: sealed.get(incident) ?? [] });
  }
});
await camera.stop();
rmSync(speakerDir, { recursive: true, force: true });
