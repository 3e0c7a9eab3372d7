/**
 * Attack: an enrolled camera's certificate connects with the dock agent's client id (or another camera's), which
 * makes an MQTT broker drop the older connection holding that id. With client ids bound to certificate names
 * (Mosquitto's `use_username_as_clientid`) and the agent's id fixed to its CN, the hostile connections only ever
 * replace the attacker's own: the agent stays connected and the other camera's offload completes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DockStation } from '../../../src/dock/main.ts';
import { DOCK_AGENT_CN } from '../../../src/protocol/acl.ts';
import { cameraTls, connectMqtt, makeDock, until } from '../../harness/broker.ts';
import type { Daemon } from '../../harness/daemon.ts';
import { captureLogger, dock, enrolledIdentity, logged, offloadingCamera, segmentsOf } from '../../harness/dock.ts';

describe('client ids bound to certificates', () => {
  const daemons: Daemon[] = [];
  const stations: DockStation[] = [];
  afterAll(async () => {
    for (const d of daemons) await d.terminate();
    for (const s of stations) await s.stop();
  }, 60_000);

  it("a camera taking the agent's or another camera's client id disconnects no one; offloads go on", async () => {
    const d = await makeDock();
    const { logger, lines } = captureLogger();
    const station = new DockStation(d.dir, logger);
    stations.push(station);
    await station.start();
    const evil = enrolledIdentity(d.dir, 'cam-evil');
    const honest = await offloadingCamera(d.dir, 'cam-honest', { segments: 6, bytesEach: 4 * 1024 * 1024 });
    daemons.push(honest.daemon);

    let stop = false;
    let connects = 0;
    const ids = [DOCK_AGENT_CN, `dock-agent-${process.pid}`, 'cam-honest'];
    const attack = (async () => {
      while (!stop) {
        for (const clientId of ids) {
          const c = await connectMqtt(d.port, cameraTls(evil.camera.configFile), { clientId }).catch(() => null);
          if (c === null) continue;
          connects += 1;
          await c.endAsync(true);
        }
      }
    })();
    dock(honest.camera, 'on');
    try {
      await until(() => segmentsOf(honest.camera).every((s) => s.offloaded), 'the honest offload', 90_000);
    } finally {
      stop = true;
      await attack;
    }
    expect(connects).toBeGreaterThan(ids.length);
    const broker = lines.filter((l) => l.component === 'broker').map((l) => String(l['mosquitto']));
    // Mosquitto names the client whose older connection it drops: never the agent, never the honest camera.
    const dropped = broker.filter((l) => / already connected, closing old connection/.test(l));
    expect(dropped.filter((l) => !/^\d+: Client cam-evil already connected/.test(l))).toEqual([]);
    expect(broker.filter((l) => /New client connected .* as dock \(/.test(l))).toHaveLength(1);
    expect(logged(lines, 'connected to the broker')).toHaveLength(1);
    expect(logged(lines, 'lost the broker connection')).toEqual([]);
  }, 180_000);
});
