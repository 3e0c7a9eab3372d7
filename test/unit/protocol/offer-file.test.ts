/**
 * A segment offer names its file as the camera names it (src/evidence/paths.ts): four digits or more, so an incident
 * past segment 9999 can still be offered; anything else, a path above all, is refused before the dock touches a file.
 */
import { describe, expect, it } from 'vitest';
import { segmentFileName } from '../../../src/evidence/paths.ts';
import { checkInventory } from '../../../src/protocol/checks.ts';

const inventory = (file: string) =>
  Buffer.from(
    JSON.stringify({
      session: 's-1',
      segments: [
        { incident: 'cam-1-20250101T000000Z-abcd', seq: 3, file, bytes: 10, sha256: 'a'.repeat(64), manifest: {} },
      ],
      incidents: [],
      auditHead: -1,
    }),
  );

describe('checkInventory: offered file names', () => {
  it.each([segmentFileName(0), segmentFileName(9999), segmentFileName(10_000), segmentFileName(99_999)])(
    '%s is accepted',
    (file) => {
      const m = checkInventory(inventory(file));
      expect('ok' in m && m.ok.segments[0]?.file).toBe(file);
    },
  );

  it.each([
    '123.mp4.age',
    '0001.mp4',
    '0001.mp4.age.manifest.json',
    '../0001.mp4.age',
    '0001.mp4.age/x',
    'incident.manifest.json',
    '',
  ])('%j is refused', (file) => {
    const m = checkInventory(inventory(file));
    expect('error' in m && m.error).toMatch(/file must be like/);
  });
});
