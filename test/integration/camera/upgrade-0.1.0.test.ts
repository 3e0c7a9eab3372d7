/**
 * A camera recorded by release 0.1.0 (two incidents, the second cut by SIGKILL mid-recording; see
 * test/fixtures/camera-0.1.0/README.md) is started by this release with no manual step: its index migrates, nothing
 * recorded is lost or altered, the interrupted segment is recovered, the camera makes its own signing key (to be
 * confirmed by its dock), shows the warning prompts 0.1.0 never had as a fault, and records. `bodycam upgrade` (what
 * the Debian package runs) then makes the prompts, and the next start has no fault left.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/camera/storage/migrations/index.ts';
import { RELEASE } from '../../../src/lib/version.ts';
import { cli, Daemon, list } from '../../harness/daemon.ts';
import { ageDecrypt, decodeErrors, probeVideo } from '../../harness/media-check.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/camera-0.1.0');

interface Row {
  id: number;
  incident_id: string;
  seq: number;
  path: string;
  state: string;
  frames: number;
  bytes: number;
  sha256: string | null;
}

function rows(dbFile: string): { version: number; segments: Row[]; incidents: number; events: number } {
  const db = new BetterSqlite3(dbFile, { readonly: true });
  try {
    return {
      version: db.pragma('user_version', { simple: true }) as number,
      segments: db
        .prepare('SELECT id, incident_id, seq, path, state, frames, bytes, sha256 FROM segments ORDER BY id')
        .all() as Row[],
      incidents: (db.prepare('SELECT count(*) AS n FROM incidents').get() as { n: number }).n,
      events: (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

describe('a camera recorded by 0.1.0', () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-upgrade-')), 'cam');
  cpSync(FIXTURE, dir, { recursive: true });
  const camera = { dir, configFile: path.join(dir, 'config.json'), identityFile: path.join(dir, 'custodian.key') };
  const index = path.join(dir, 'storage', 'index.sqlite');
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.terminate();
  });

  it('upgrades its index, keeps and recovers every incident and segment, and records again', async () => {
    // The fixture as 0.1.0 left it (read on a copy of the files: opening the original would checkpoint its WAL).
    const probeDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-upgrade-probe-'));
    cpSync(path.join(FIXTURE, 'storage'), probeDir, { recursive: true });
    const before = rows(path.join(probeDir, 'index.sqlite'));
    expect(before.version).toBe(1);
    expect(before.incidents).toBe(2);
    expect(before.segments.map((s) => s.state)).toEqual(['closed', 'closed', 'closed', 'open']);
    expect(before.segments.every((s) => path.isAbsolute(s.path))).toBe(true);

    // `list` reads beside a running daemon and never migrates: it says what to do.
    const early = cli(['list', '--config', camera.configFile, '--json']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('Start the camera (bodycam run) once to upgrade it');

    // 0.1.0 had neither warning prompts nor a device key. Started as it is, with no manual step, the camera records:
    // it makes its key (to be confirmed by its dock) and shows the missing prompts as a fault with the fix.
    expect(existsSync(path.join(dir, 'identity', 'device.key'))).toBe(false);
    daemon = new Daemon(camera);
    const started = await daemon.waitFor(
      (s) => s.state === 'buffering' && s.ring.seconds >= 2,
      60_000,
      'buffering after the upgrade',
    );
    expect(started.faults.map((f) => f.part)).toEqual(['prompts']);
    expect(started.faults[0]?.message).toContain(`${path.join(dir, 'prompts', 'warning-nl.wav')} is missing`);
    expect(started.faults[0]?.fix).toContain(`bodycam prompts --config ${camera.configFile}`);
    expect(started.outputs?.led).toMatchObject({ indication: 'standby', warning: 'prompts-missing', red: 'wink' });
    expect(started.identity).toMatchObject({ origin: 'created-at-start', toAnnounce: true, confirmedAt: null });
    const keyFile = path.join(dir, 'identity', 'device.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const logged = await daemon.events();
    expect(logged.filter((e) => e.kind === 'setup_fault').map((e) => e.data['part'])).toEqual(['prompts']);
    expect(logged.find((e) => e.kind === 'device_key_created')?.data).toMatchObject({
      keyId: started.identity?.keyId,
      confirmedByDock: false,
    });

    const after = rows(index);
    expect(after.version).toBe(MIGRATIONS.at(-1)?.version);
    expect(after.version).toBeGreaterThan(1);
    expect(after.incidents).toBe(2);
    expect(after.events).toBeGreaterThan(before.events);
    // Same rows, paths now relative to the storage directory; closed segments untouched.
    expect(after.segments.map((s) => [s.id, s.incident_id, s.seq])).toEqual(
      before.segments.map((s) => [s.id, s.incident_id, s.seq]),
    );
    for (const [i, s] of after.segments.entries()) {
      const old = before.segments[i];
      expect(s.path).toBe(`footage/${s.incident_id}/${String(s.seq).padStart(4, '0')}.mp4.age`);
      if (old?.state === 'closed')
        expect([s.state, s.sha256, s.bytes, s.frames]).toEqual(['closed', old.sha256, old.bytes, old.frames]);
    }
    expect(after.segments.at(-1)?.state).toBe('recovered');

    const incidents = list(camera);
    expect(incidents.map((i) => [i.trigger, i.state, i.segments.map((s) => s.state)])).toEqual([
      ['button', 'closed', ['closed', 'closed']],
      ['line:trigger', 'interrupted', ['closed', 'recovered']],
    ]);
    const out = mkdtempSync(path.join(os.tmpdir(), 'bodycam-upgrade-out-'));
    for (const seg of incidents.flatMap((i) => i.segments)) {
      expect(seg.path.startsWith(path.join(dir, 'storage', 'footage'))).toBe(true);
      expect(existsSync(`${seg.path}.partial`)).toBe(false);
      const sha = spawnSync('sha256sum', [seg.path], { encoding: 'utf8' }).stdout.split(' ')[0];
      expect(sha).toBe(seg.sha256);
      const dec = ageDecrypt(camera.identityFile, seg.path, out);
      expect(dec.stderr).toBe('');
      expect(decodeErrors(dec.out)).toBe('');
      const probe = probeVideo(dec.out);
      expect(probe.packets[0]?.keyframe).toBe(true);
      expect(probe.packets.length).toBe(seg.frames);
    }
    // The evidence recorded by 0.1.0 is signed at the upgrade and verifies; the cut segment says so in its manifest.
    const verified = cli(['verify', path.join(dir, 'storage'), '--key', path.join(dir, 'identity', 'device.pub')]);
    expect(verified.stdout).toContain('OK');
    expect(verified.code).toBe(0);
    const cut = JSON.parse(readFileSync(`${incidents[1]?.segments[1]?.path}.manifest.json`, 'utf8'));
    expect(cut.payload.segment.ending).toBe('recovered');
    const closing = JSON.parse(
      readFileSync(path.join(path.dirname(incidents[1]?.segments[1]?.path ?? ''), 'incident.manifest.json'), 'utf8'),
    );
    expect(closing.payload).toMatchObject({ ending: 'interrupted', warning: { state: 'unknown' } });
    // The recovered segment keeps what was synced before the SIGKILL: most of the 2.5 s it was open.
    expect(incidents[1]?.segments[1]?.frames).toBeGreaterThanOrEqual(15);

    // And it records again; the incident says the warning could not be given, and why.
    await daemon.press('trigger', 1);
    await daemon.waitFor((s) => s.state === 'recording', 15_000, 'recording after the upgrade');
    await new Promise((r) => setTimeout(r, 1500));
    await daemon.press('record', 1, 3500);
    await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop after the upgrade');
    const third = list(camera)[2];
    expect(third?.state).toBe('closed');
    expect(third?.segments.length).toBeGreaterThan(0);
    expect(third?.segments.every((s) => s.state === 'closed')).toBe(true);
    expect(third?.warning).toMatchObject({ state: 'failed', languages: [] });
    expect(third?.warning?.reason).toContain('no prompt for nl (warning-nl.wav is missing)');
    const integrity = new BetterSqlite3(index, { readonly: true });
    expect(integrity.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(integrity.prepare("SELECT value FROM meta WHERE key = 'release'").get()).toEqual({ value: RELEASE });
    integrity.close();

    // What the package runs after installing: the prompts are made from the configured texts; the key is kept.
    const upgrade = cli(['upgrade', '--config', camera.configFile]);
    expect(upgrade.stderr).toBe('');
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toContain(`made      ${path.join(dir, 'prompts', 'warning-nl.wav')}`);
    await daemon.terminate();
    daemon = new Daemon(camera);
    const again = await daemon.waitFor((s) => s.state === 'buffering', 60_000, 'buffering after bodycam upgrade');
    expect(again.faults).toEqual([]);
    expect(again.outputs?.led?.warning).not.toBe('prompts-missing');
    expect(again.identity).toMatchObject({ keyId: started.identity?.keyId, toAnnounce: true });
    await daemon.press('trigger', 1);
    await daemon.waitFor((s) => s.state === 'recording', 15_000, 'recording with prompts');
    await daemon.waitForEvent('warning_given', 30_000);
    await daemon.press('record', 1, 3500);
    await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop with prompts');
    expect(list(camera)[3]?.warning).toMatchObject({ state: 'given', languages: ['nl', 'fr', 'de'] });
  }, 180_000);
});
