/**
 * A bucket as the docks leave it, for the custody service's tests: incident INC1 of pz1, recorded by cam1 at
 * ACTIVATED, one sealed segment (stand-in bytes: the service never opens them) and its signed closing manifest, each
 * under COMPLIANCE retention with the retention metadata the dock writes. In the in-memory store, on the test's clock.
 */
import { sign } from '../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey } from '../../src/evidence/keys.ts';
import { incidentManifest, manifestFileText } from '../../src/evidence/manifest.ts';
import { incidentObject } from '../../src/evidence/object-keys.ts';
import { retentionMetadata } from '../../src/evidence/retention.ts';
import { MemoryObjectStore } from '../../src/store/memory.ts';
import { putVerified } from '../../src/store/verified-put.ts';

const DAY = 86_400_000;
export const ACTIVATED = Date.parse('2026-06-01T10:00:00.000Z');
export const ROOT = { prefix: 'ev', organisation: 'pz1' };
export const INC1 = { organisation: 'pz1', device: 'cam1', incident: 'INC1' };
const device = generateDeviceKeys();

/** The bucket; `segments` are the stored bytes of the incident's segments, in order (default: one stand-in). */
export async function vaultBucket(
  now: () => number,
  segments: readonly Buffer[] = [Buffer.alloc(1000, 1)],
): Promise<MemoryObjectStore> {
  const store = new MemoryObjectStore({ now });
  const priv = loadPrivateKey(device.privatePem);
  const closing = incidentManifest({
    device: 'cam1',
    incident: 'INC1',
    ending: 'closed',
    trigger: 'button',
    activatedAt: new Date(ACTIVATED).toISOString(),
    stoppedAt: new Date(ACTIVATED + 300_000).toISOString(),
    stopReason: 'button',
    segments: [{ seq: 0, manifest: 'a'.repeat(64) }],
    preroll: { requestedMs: 30_000, actualMs: 29_500, firstKeyframeOffsetMs: 0 },
    warning: { state: 'given', reason: null, startedMediaMs: 1000, durationMs: 4000, languages: ['nl'] },
    clock: { source: 'ntp', offsetMs: 12 },
    retention: { policeAccessDays: 30, maxMonths: 12 },
    signedAt: new Date(ACTIVATED + 301_000).toISOString(),
  });
  const env = sign({ ...closing, chainSeq: 1, prev: 'c'.repeat(64) }, priv, keyId(priv));
  const files: Array<[string, Buffer]> = segments.map((b, i) => [`${String(i).padStart(4, '0')}.mp4.age`, b]);
  files.push(['incident.manifest.json', Buffer.from(manifestFileText(env))]);
  for (const [file, body] of files) {
    await putVerified(store, {
      key: incidentObject(ROOT, 'cam1', 'INC1', file),
      source: body,
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(ACTIVATED + 30 * DAY) },
      metadata: retentionMetadata({
        recordedMs: ACTIVATED,
        recordedBy: 'device',
        minimumUntilMs: ACTIVATED + 30 * DAY,
        deleteDueMs: ACTIVATED + 365 * DAY,
      }),
      contentType: 'application/octet-stream',
    });
  }
  return store;
}
