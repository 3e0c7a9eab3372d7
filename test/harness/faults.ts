/**
 * What every fault test checks once the fault is over: the index is sound (SQLite's own integrity check, run on the
 * files the fault left), every closed segment verifies offline with the device's public key, and the footage
 * decrypts and decodes from a keyframe with the frame count the index holds.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type Camera, cli, type ListedIncident } from './daemon.ts';
import { ageDecrypt, decodeErrors, probeVideo } from './media-check.ts';

export function storageOf(camera: Camera): string {
  return path.join(camera.dir, 'storage');
}

/** `PRAGMA integrity_check` on the index as the fault left it ('ok' when sound). */
export function indexIntegrity(camera: Camera, storage = storageOf(camera)): string {
  const db = new Database(path.join(storage, 'index.sqlite'));
  try {
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

/**
 * `bodycam verify` of the camera's storage with its public key (and the dock's, for a camera that offloaded): exit
 * code and the report's first lines.
 */
export function verifyStorage(
  camera: Camera,
  storage = storageOf(camera),
  dockKey?: string,
): { code: number; output: string } {
  const { device } = JSON.parse(readFileSync(camera.configFile, 'utf8')) as { device: { id: string } };
  const key = `${device.id}=${path.join(camera.dir, 'identity', 'device.pub')}`;
  const dock = dockKey === undefined ? [] : ['--dock-key', dockKey];
  const r = cli(['verify', storage, '--key', key, ...dock], 120_000);
  return { code: r.code, output: `${r.stdout}${r.stderr}`.slice(0, 4000) };
}

/** Problems found decoding every segment of `incidents` (empty when all is well). */
export function footageProblems(camera: Camera, incidents: readonly ListedIncident[]): string[] {
  const problems: string[] = [];
  for (const incident of incidents) {
    const out = mkdtempSync(path.join(os.tmpdir(), 'bodycam-fault-'));
    for (const seg of incident.segments) {
      const where = `${incident.id} segment ${seg.seq} (${seg.state})`;
      // A lost segment never reached a sync: there is no footage to check, and there must be no final file either.
      if (seg.state === 'lost') {
        if (existsSync(seg.path)) problems.push(`${where}: marked lost, but its final file exists`);
        continue;
      }
      const dec = ageDecrypt(camera.identityFile, seg.path, out);
      if (!dec.ok) {
        problems.push(`${where}: age -d failed: ${dec.stderr}`);
        continue;
      }
      const errors = decodeErrors(dec.out);
      if (errors !== '') problems.push(`${where}: decode errors: ${errors.slice(0, 300)}`);
      const packets = probeVideo(dec.out).packets;
      if (packets[0]?.keyframe !== true) problems.push(`${where}: does not start on a keyframe`);
      if (packets.length !== seg.frames) problems.push(`${where}: ${packets.length} frames, index says ${seg.frames}`);
    }
  }
  return problems;
}
