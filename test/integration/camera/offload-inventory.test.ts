/**
 * What a camera offers its dock in one inventory (src/camera/sync/offload.ts), on real storage: at most
 * MAX_OFFERS_PER_INVENTORY segments, oldest first, those the dock refused during this docking last, and the whole
 * message within MAX_JSON_BYTES; the rest follow in a later inventory.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CameraStore } from '../../../src/camera/storage/store.ts';
import { Offload } from '../../../src/camera/sync/offload.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { generateDeviceKeys, loadPublicKey } from '../../../src/evidence/keys.ts';
import { MAX_JSON_BYTES, MAX_OFFERS_PER_INVENTORY } from '../../../src/protocol/limits.ts';
import { makeSimCamera } from '../../harness/daemon.ts';
import { quietCamera } from '../../harness/dock.ts';
import { storeIncident } from '../../harness/stored-footage.ts';

describe("a camera's inventory", () => {
  it('offers at most the per-inventory bound, oldest first, refused ones last, within the JSON limit', async () => {
    const camera = makeSimCamera(quietCamera('cam-inv'));
    const first = await storeIncident(camera.configFile, { segments: 3, bytesEach: 16 });
    const second = await storeIncident(camera.configFile, { segments: MAX_OFFERS_PER_INVENTORY - 2, bytesEach: 16 });
    const config = loadConfig(camera.configFile);
    const store = CameraStore.open(config.storage.dir);
    try {
      const offload = new Offload({
        store,
        storageDir: config.storage.dir,
        device: 'cam-inv',
        dockKey: loadPublicKey(generateDeviceKeys().publicPem),
      });
      const all = await offload.inventory('s');
      expect(all.segments).toHaveLength(MAX_OFFERS_PER_INVENTORY);
      expect(all.segments.slice(0, 4).map((o) => `${o.incident}#${o.seq}`)).toEqual([
        `${first.incident}#0`,
        `${first.incident}#1`,
        `${first.incident}#2`,
        `${second.incident}#0`,
      ]);
      expect(Buffer.byteLength(JSON.stringify(all))).toBeLessThan(MAX_JSON_BYTES);
      // Two of the first incident's segments were refused while docked: the others go first, those two after them,
      // as far as the bound allows (one of them here).
      const later = new Set([0, 1].map((seq) => `${first.incident}#${seq}`));
      const next = await offload.inventory('s', later);
      expect(next.segments).toHaveLength(MAX_OFFERS_PER_INVENTORY);
      expect(next.segments[0]).toMatchObject({ incident: first.incident, seq: 2 });
      expect(next.segments[1]).toMatchObject({ incident: second.incident, seq: 0 });
      expect(next.segments.at(-1)).toMatchObject({ incident: first.incident, seq: 0 });
      expect(next.segments.filter((o) => o.incident === second.incident)).toHaveLength(MAX_OFFERS_PER_INVENTORY - 2);
      // Each offer is the segment's own signed manifest.
      const manifest = JSON.parse(
        readFileSync(`${config.storage.dir}/footage/${second.incident}/0000.mp4.age.manifest.json`, 'utf8'),
      );
      expect(next.segments[1]?.manifest).toEqual(manifest);
    } finally {
      store.close();
    }
  }, 180_000);
});
