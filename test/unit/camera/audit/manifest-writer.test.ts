/** ManifestWriter's queue survives a failure that is not storage: logged, counted, and the next pass runs again. */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestWriter } from '../../../../src/camera/audit/manifests.ts';
import { createCameraBus } from '../../../../src/camera/events.ts';
import { createDeviceIdentity, loadDeviceIdentity } from '../../../../src/camera/identity.ts';
import { CameraStore } from '../../../../src/camera/storage/store.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';

describe('ManifestWriter', () => {
  it('keeps signing after an internal error, and reports it instead of rejecting', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-manifests-'));
    const keyFile = path.join(dir, 'identity', 'device.key');
    await createDeviceIdentity(keyFile);
    mkdirSync(path.join(dir, 'storage'));
    const store = CameraStore.open(path.join(dir, 'storage'));
    let passes = 0;
    const manifests = Object.create(store.manifests) as typeof store.manifests;
    manifests.incidentsOpenInChain = () => {
      passes += 1;
      if (passes === 2) throw new TypeError('a bug in a pass');
      return [];
    };
    const internal: unknown[] = [];
    const writer = new ManifestWriter({
      bus: createCameraBus(),
      incidents: store.incidents,
      segments: store.segments,
      manifests,
      storageDir: path.join(dir, 'storage'),
      device: 'cam-test',
      identity: await loadDeviceIdentity(keyFile),
      retention: { policeAccessDays: 30, maxMonths: 12 },
      speed: 1,
      wallNow: () => Date.UTC(2026, 0, 1),
      logger: silentLogger(),
      onInternalError: (e) => internal.push(e),
    });
    await writer.start(); // pass 1
    writer.sign(); // pass 2 throws
    writer.sign(); // pass 3 must still run
    await expect(writer.stop()).resolves.toBeUndefined(); // pass 4
    expect(passes).toBe(4);
    expect(internal.map((e) => (e as Error).message)).toEqual(['a bug in a pass']);
    store.close();
  });
});
