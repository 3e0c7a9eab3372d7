/** The signed audit log on real files: appends chain across restarts, and a torn last line is cut off, not kept. */
import { appendFileSync, chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../../../src/camera/audit/trail.ts';
import { createDeviceIdentity, loadDeviceIdentity } from '../../../../src/camera/identity.ts';
import { parseAuditLog } from '../../../../src/evidence/audit.ts';
import { verifySignature } from '../../../../src/evidence/envelope.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';

async function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-audit-'));
  const keyFile = path.join(dir, 'identity', 'device.key');
  await createDeviceIdentity(keyFile);
  return { dir, identity: await loadDeviceIdentity(keyFile) };
}

const entry = (kind: string) => ({ at: new Date().toISOString(), kind, incidentId: null, data: { n: kind.length } });

describe('AuditTrail', () => {
  it('signs and chains every entry, across a restart and a torn last line', async () => {
    const { dir, identity } = await setup();
    const first = await AuditTrail.open(dir, identity, silentLogger());
    for (const k of ['started', 'activation', 'stop']) first.append(entry(k));
    await first.close();
    appendFileSync(path.join(dir, 'audit.jsonl'), '{"keyId":"torn by a power cu');

    const second = await AuditTrail.open(dir, identity, silentLogger());
    second.append(entry('started'));
    await second.close();
    const log = parseAuditLog(readFileSync(path.join(dir, 'audit.jsonl')));
    expect(log.malformed).toEqual([]);
    expect(log.tornTail).toBeNull();
    expect(log.entries.map((e) => [e.envelope.payload.seq, e.envelope.payload.kind])).toEqual([
      [0, 'started'],
      [1, 'activation'],
      [2, 'stop'],
      [3, 'started'],
    ]);
    for (const [i, e] of log.entries.entries()) {
      expect(verifySignature(e.envelope, identity.publicKey)).toBe(true);
      expect(e.envelope.payload.prev).toBe(i === 0 ? null : log.entries[i - 1]?.hash);
    }
  });

  it('refuses a device key that others can read, naming the fix', async () => {
    const { dir } = await setup();
    const keyFile = path.join(dir, 'identity', 'device.key');
    chmodSync(keyFile, 0o644);
    await expect(loadDeviceIdentity(keyFile)).rejects.toThrow(`chmod 600 ${keyFile}`);
    await expect(loadDeviceIdentity(path.join(dir, 'nope.key'), '/etc/bodycam.json')).rejects.toThrow(
      'bodycam identity --config /etc/bodycam.json',
    );
  });
});
