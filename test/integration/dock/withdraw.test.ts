/**
 * `bodycam dock withdraw` against the real broker of a running dock: the withdrawn camera's certificate goes on the
 * revocation list, the dock makes its Mosquitto re-read it (SIGHUP, no restart), and from then on that certificate
 * cannot connect (the refusal is in the dock's log), while the other cameras' connections stay up and new ones are
 * admitted. Enrolled again, the camera gets a new certificate that connects; the old one stays refused.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceFiles, dockLayout } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { parseWithdrawals } from '../../../src/dock/revocation.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { cameraTls, connectMqtt, endAll, enrollCamera, makeDock, type TlsFiles, until } from '../../harness/broker.ts';
import { cli, makeSimCamera } from '../../harness/daemon.ts';
import { captureLogger, logged } from '../../harness/dock.ts';

const clients: MqttClient[] = [];
const stations: DockStation[] = [];
afterAll(async () => {
  await endAll(clients);
  for (const s of stations) await s.stop();
}, 60_000);

function camera(id: string): string {
  const cam = makeSimCamera((c) => {
    c['device'].id = id;
  });
  return cam.configFile;
}

/** The camera's certificate and key as they are now (a copy: enrolling again replaces the files). */
function keep(tls: TlsFiles, dir: string): TlsFiles {
  const cert = path.join(dir, 'old-client.crt');
  const key = path.join(dir, 'old-client.key');
  copyFileSync(tls.cert as string, cert);
  copyFileSync(tls.key as string, key);
  return { ca: tls.ca, cert, key };
}

describe('withdrawing a camera at a running dock', () => {
  it('revokes its certificate at the broker without dropping the others, until enrolled again', async () => {
    const d = await makeDock();
    const l = dockLayout(d.dir);
    expect(readFileSync(l.broker.conf, 'utf8')).toContain(`crlfile ${l.pki.crl}`);
    const [lost, other, later] = [camera('cam-lost'), camera('cam-other'), camera('cam-later')];
    for (const c of [lost, other, later]) enrollCamera(d.dir, c);
    const { logger, lines } = captureLogger();
    const station = new DockStation(d.dir, logger);
    stations.push(station);
    await station.start();

    const lostClient = await connectMqtt(d.port, cameraTls(lost));
    const otherClient = await connectMqtt(d.port, cameraTls(other));
    clients.push(lostClient, otherClient);
    let otherClosed = false;
    otherClient.on('close', () => {
      otherClosed = true;
    });
    const oldLost = keep(cameraTls(lost), path.dirname(lost));
    const serial = execFileSync('openssl', ['x509', '-noout', '-serial', '-in', oldLost.cert as string], {
      encoding: 'utf8',
    })
      .trim()
      .replace('serial=', '');

    const r = cli(['dock', 'withdraw', '--dir', d.dir, '--device', 'cam-lost', '--reason', 'reported stolen, PV 42']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('cam-lost withdrawn at');
    expect(existsSync(deviceFiles(d.dir, 'cam-lost').dir)).toBe(false);
    expect(readdirSync(l.withdrawnDir).filter((n) => n.startsWith('cam-lost-'))).toHaveLength(1);
    const records = parseWithdrawals(readFileSync(l.pki.withdrawals, 'utf8'), l.pki.withdrawals);
    expect(records.map((w) => [w.device, w.serial, w.reason])).toEqual([
      ['cam-lost', serial, 'reported stolen, PV 42'],
    ]);
    const crl = execFileSync('openssl', ['crl', '-noout', '-text', '-in', l.pki.crl], { encoding: 'utf8' });
    expect(crl).toContain(`Serial Number: ${serial}`);

    await until(
      () => logged(lines, 'the revocation list changed: the broker re-reads it').length > 0,
      'the dock sees the new list',
      10_000,
    );
    // The reload is asynchronous in Mosquitto: the refusal comes within moments of the signal.
    for (let tries = 0; ; tries += 1) {
      const refused = await connectMqtt(d.port, oldLost).then(
        (c) => {
          clients.push(c);
          return false;
        },
        () => true,
      );
      if (refused) break;
      if (tries > 50) throw new Error('the withdrawn certificate is still admitted');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expect(connectMqtt(d.port, oldLost)).rejects.toThrow();
    await until(
      () => logged(lines, 'the broker refused a client certificate (withdrawn, expired or from another CA)').length > 0,
      'the refusal in the dock log',
    );
    expect(station.broker?.restarts).toBe(0);
    expect([otherClosed, otherClient.connected]).toEqual([false, true]);
    clients.push(await connectMqtt(d.port, cameraTls(later)));

    // The dock's status names the withdrawal and its reason (a camera the dock has seen).
    const progress = Progress.open(d.dir);
    progress.seen('cam-lost');
    progress.close();
    const status = cli(['dock', 'status', '--dir', d.dir]);
    expect(status.stdout).toMatch(/^cam-lost: WITHDRAWN \S+ \(reported stolen, PV 42\); /m);

    // Withdrawing again changes nothing and says so.
    const again = cli(['dock', 'withdraw', '--dir', d.dir, '--device', 'cam-lost', '--reason', 'again']);
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining('cam-lost was already withdrawn at')]);

    // Enrolled again: a new certificate, admitted; the withdrawn one stays refused.
    enrollCamera(d.dir, lost);
    clients.push(await connectMqtt(d.port, cameraTls(lost)));
    await expect(connectMqtt(d.port, oldLost)).rejects.toThrow();
    expect([otherClosed, otherClient.connected]).toEqual([false, true]);
  }, 120_000);

  it('refuses a camera that is not enrolled, and a reason that is empty or not one line, changing nothing', async () => {
    const d = await makeDock();
    const l = dockLayout(d.dir);
    const before = readFileSync(l.pki.crl, 'utf8');
    for (const [device, reason, says] of [
      ['cam-none', 'lost', /cam-none is not enrolled/],
      ['cam-none', ' ', /--reason: give the reason/],
      ['cam-none', 'two\nlines', /--reason: the reason must be one line/],
      ['../etc', 'lost', /--device: "..\/etc" is not a device id/],
    ] as const) {
      const r = cli(['dock', 'withdraw', '--dir', d.dir, '--device', device, '--reason', reason]);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(says)]);
    }
    expect(existsSync(l.pki.withdrawals)).toBe(false);
    expect(readFileSync(l.pki.crl, 'utf8')).toBe(before);
  }, 60_000);
});
