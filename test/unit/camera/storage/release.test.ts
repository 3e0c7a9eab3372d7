/**
 * The index records the release that wrote it, and a release older than the index's schema refuses to open it,
 * naming both releases (a downgrade), in writing and in reading mode; the config file does the same.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../../src/camera/storage/migrations/index.ts';
import { CameraStore } from '../../../../src/camera/storage/store.ts';
import { loadConfig } from '../../../../src/config/load.ts';
import { INDEX_FILE } from '../../../../src/evidence/paths.ts';
import { isBodycamError } from '../../../../src/lib/errors.ts';
import { RELEASE } from '../../../../src/lib/version.ts';

const latest = MIGRATIONS.at(-1)?.version ?? 0;
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bodycam-release-'));

describe('the index and its release', () => {
  it('records the release that opened it for writing; reading leaves it alone', () => {
    const dir = tmp();
    const store = CameraStore.open(dir);
    expect(store.db.writtenBy()).toBe(RELEASE);
    store.close();
    const raw = new BetterSqlite3(path.join(dir, INDEX_FILE));
    raw.prepare("UPDATE meta SET value = '0.1.9' WHERE key = 'release'").run();
    raw.close();
    const reader = CameraStore.open(dir, { readonly: true });
    expect(reader.db.writtenBy()).toBe('0.1.9');
    reader.close();
    const writer = CameraStore.open(dir);
    expect(writer.db.writtenBy()).toBe(RELEASE);
    writer.close();
  });

  it.each([false, true])('refuses an index a newer release wrote, naming both releases (read-only: %s)', (readonly) => {
    const dir = tmp();
    CameraStore.open(dir).close();
    const raw = new BetterSqlite3(path.join(dir, INDEX_FILE));
    raw.prepare("UPDATE meta SET value = '9.4.0' WHERE key = 'release'").run();
    raw.pragma(`user_version = ${latest + 1}`);
    raw.close();
    let error: unknown;
    try {
      CameraStore.open(dir, { readonly });
    } catch (e) {
      error = e;
    }
    expect(isBodycamError(error, 'STORAGE_INDEX')).toBe(true);
    expect((error as Error).message).toBe(
      `the index ${path.join(dir, INDEX_FILE)} was written by bodycam 9.4.0 (schema ${latest + 1}); bodycam ${RELEASE} reads schema ${latest} at most, so it cannot open it (a downgrade): install bodycam 9.4.0 or a later one`,
    );
  });

  it('still refuses a newer index that names no release, saying so', () => {
    const dir = tmp();
    const raw = new BetterSqlite3(path.join(dir, INDEX_FILE));
    raw.pragma(`user_version = ${latest + 3}`);
    raw.close();
    expect(() => CameraStore.open(dir)).toThrow(
      /written by a newer release \(schema \d+\); .* install the release that wrote it/,
    );
  });
});

describe('the config and its release', () => {
  it('names the newer release when a config it wrote does not load here', () => {
    const file = path.join(tmp(), 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        release: '9.4.0',
        device: { id: 'cam1' },
        capture: { source: { kind: 'synthetic' } },
        encryption: { recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'] },
        storage: { dir: 'storage' },
        futureKey: { on: true },
      }),
    );
    expect(() => loadConfig(file)).toThrow(
      `(written by bodycam 9.4.0, newer than this bodycam ${RELEASE}: a downgrade; install 9.4.0 or later, or rewrite it with \`bodycam provision --force\`)`,
    );
  });

  it('loads a config an older release wrote, and one that names no release', () => {
    const base = {
      device: { id: 'cam1' },
      capture: { source: { kind: 'synthetic' } },
      encryption: { recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'] },
      storage: { dir: 'storage' },
      gpio: { inputs: { record: { pin: 5 } } },
      controls: { triggerInputs: [] },
    };
    for (const doc of [base, { release: '0.1.0', ...base }]) {
      const file = path.join(tmp(), 'config.json');
      writeFileSync(file, JSON.stringify(doc));
      expect(loadConfig(file).device.id).toBe('cam1');
    }
    const bad = path.join(tmp(), 'config.json');
    writeFileSync(bad, JSON.stringify({ release: 'v2', ...base }));
    expect(() => loadConfig(bad)).toThrow(/release: a semantic version such as 0\.2\.0/);
  });
});
