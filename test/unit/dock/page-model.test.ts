/**
 * The dock page's model from a real progress database: which cameras are docked (a claim within 45 s), each one's
 * transfers under way with their bytes, the incidents held (complete once the closing manifest is in) and how many of
 * their writes wait for, or were refused by, the object store; enrolled cameras never seen, withdrawn ones; and
 * pending updates only when a provider is given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockPageModel, type PageSources } from '../../../src/dock/page/model.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';

const NOW = Date.parse('2026-12-06T10:00:00Z');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sources(progress: Progress, o: Partial<PageSources> = {}): PageSources {
  return {
    dock: 'dock.local',
    storeKind: 's3',
    progress,
    enrolled: () => ['cam-a', 'cam-b', 'cam-new'],
    withdrawals: async () => [
      { device: 'cam-old', serial: '01', notAfter: '2027-01-01T00:00:00Z', at: '2026-12-01T00:00:00Z', reason: 'lost' },
    ],
    hello: (device) => (device === 'cam-a' ? { release: '0.3.0', faults: ['microphone silent'] } : null),
    wallNow: () => NOW,
    ...o,
  };
}

const segment = (device: string, incident: string, seq: number, bytes: number) => ({
  device,
  incident,
  seq,
  file: `${String(seq).padStart(4, '0')}.mp4.age`,
  bytes,
  sha256: 'ab'.repeat(32),
  chainSeq: seq,
  manifestHash: null,
});

const claim = (atMs: number) => ({
  session: 's',
  atMs,
  recording: false,
  segments: 0,
  closings: 0,
  open: 0,
  chainSeq: -1,
  auditSeq: -1,
});

describe("the dock page's model", () => {
  it('gathers docked cameras, transfers, incidents and their state at the store, never seen and withdrawn', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-page-model-'));
    dirs.push(dir);
    const progress = Progress.open(dir, { wallNow: () => NOW });
    try {
      for (const device of ['cam-a', 'cam-b', 'cam-old']) progress.seen(device);
      // cam-a: docked now, one incident complete, a second segment of another arriving.
      progress.claims.record('cam-a', claim(NOW - 10_000));
      progress.begin(segment('cam-a', 'INC1', 0, 1000));
      progress.finish('cam-a', 'INC1', 0, 'stored', null);
      progress.begin(segment('cam-a', 'INC1', 1, 2000));
      progress.finish('cam-a', 'INC1', 1, 'stored', null);
      progress.storeIncident('cam-a', 'INC1', 'cd'.repeat(32));
      progress.begin(segment('cam-a', 'INC2', 0, 4000));
      progress.received('cam-a', 'INC2', 0, 1000, 1000);
      // cam-b: seen a minute ago, gone; its incident stored at the dock and waiting for the object store.
      progress.claims.record('cam-b', claim(NOW - 60_000));
      progress.begin(segment('cam-b', 'INC9', 0, 500));
      progress.finish('cam-b', 'INC9', 0, 'stored', null);
      const base = { device: 'cam-b', incident: 'INC9', staged: null, text: '', bytes: 1, sha256: null, atMs: NOW };
      progress.backlog.add({ ...base, op: 'segment', file: '0000.mp4.age' });
      const refused = progress.backlog.add({ ...base, op: 'closing', file: null });
      progress.backlog.failed(refused, 'AccessDenied', true);

      const m = await dockPageModel(sources(progress));
      expect(m.at).toBe('2026-12-06T10:00:00.000Z');
      expect(m.updates).toBeNull();
      expect(m.store).toEqual({ kind: 's3', waiting: 2, refused: 1, lastError: null });
      expect(m.cameras.map((c) => [c.device, c.docked, c.enrolled, c.lastSeen !== null])).toEqual([
        ['cam-a', true, true, true],
        ['cam-b', false, true, true],
        ['cam-new', false, true, false],
        ['cam-old', false, false, true],
      ]);
      const [a, b, , old] = m.cameras;
      expect(a?.hello?.faults).toEqual(['microphone silent']);
      expect(a?.transfers).toEqual([
        { incident: 'INC2', file: '0000.mp4.age', bytes: 4000, received: 1000, updatedAt: expect.any(String) },
      ]);
      expect(a?.incidentsHeld).toEqual([
        { incident: 'INC1', segments: 2, bytes: 3000, closed: true, waitingForStore: 0, refusedByStore: 0 },
      ]);
      expect(b?.incidentsHeld).toEqual([
        { incident: 'INC9', segments: 1, bytes: 500, closed: false, waitingForStore: 2, refusedByStore: 1 },
      ]);
      expect(b?.undock.safe).toBe(false);
      expect(old?.withdrawn).toEqual({ at: '2026-12-01T00:00:00Z', reason: 'lost', serial: '01' });

      const withUpdates = await dockPageModel(
        sources(progress, { pendingUpdates: async () => [{ device: 'cam-a', release: '0.4.0', state: 'waiting' }] }),
      );
      expect(withUpdates.updates).toEqual([{ device: 'cam-a', release: '0.4.0', state: 'waiting' }]);
    } finally {
      progress.close();
    }
  });
});
