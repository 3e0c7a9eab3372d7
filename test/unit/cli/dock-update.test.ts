/**
 * `bodycam dock update` run as root on a packaged dock (sudo, as for the other dock commands): the bundle and the
 * wanted releases it writes belong to the dock directory's owner, the service user whose agent reads them and writes
 * its reports beside them. Without that, the agent could not write releases/reports.json.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chownSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dockUpdateCommand } from '../../../src/cli/updates.ts';
import { dockLayout } from '../../../src/dock/layout.ts';
import { packBundle } from '../../../src/protocol/bundle.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe.skipIf(process.getuid?.() !== 0)('dock update run as root (needs root to give files away)', () => {
  it("gives what it wrote to the dock directory's owner", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-dock-update-'));
    const layout = dockLayout(dir);
    writeFileSync(layout.config, '{}\n');
    chownSync(dir, 4242, 4343);
    const bundle = path.join(os.tmpdir(), `bodycam-bundle-${process.pid}`);
    const key = generateKeyPairSync('ed25519').privateKey;
    writeFileSync(
      bundle,
      packBundle({ kind: 'release', version: '0.9.0' }, [{ path: 'a', bytes: Buffer.from('a') }], key),
    );
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await dockUpdateCommand({ dir, bundle, device: [] });
    const written = [
      layout.releases.dir,
      ...readdirSync(layout.releases.dir).map((f) => path.join(layout.releases.dir, f)),
    ];
    expect(written.length).toBe(3);
    for (const f of written)
      expect(`${path.basename(f)} ${statSync(f).uid}:${statSync(f).gid}`).toBe(`${path.basename(f)} 4242:4343`);
  });
});
