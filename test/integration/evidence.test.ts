/**
 * Evidence integrity on footage recorded by the daemon itself: untouched storage verifies; every tampering class,
 * applied to a copy, is caught with exit 1 naming the right segment; an incident exports to one MP4 that any player
 * opens; and nothing on the camera can decrypt what it recorded.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, Daemon, type ListedIncident, list, makeSimCamera } from '../harness/daemon.ts';
import { ageDecrypt, probeVideo } from '../harness/media-check.ts';
import { itWith } from '../harness/tools.ts';

const SMALL = { kind: 'synthetic', width: 320, height: 240, fps: 15, speed: 4, videoBitrateKbps: 300 };
const small = (c: Record<string, any>) => {
  c['capture'].source = SMALL;
  c['preRecord'].seconds = 2;
  c['recording'].segmentSeconds = 10;
  c['warning'].enabled = false;
};

/** Records incidents of about `mediaSeconds` each, then stops the daemon. */
async function record(camera: ReturnType<typeof makeSimCamera>, mediaSeconds: number[]): Promise<ListedIncident[]> {
  const daemon = new Daemon(camera);
  try {
    for (const seconds of mediaSeconds) {
      await daemon.waitFor((s) => s.ring.seconds >= 2 && s.state === 'buffering', 60_000, 'pre-roll');
      await daemon.press('trigger', 1);
      const start = (await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording')).capture.mediaMs;
      await daemon.waitFor((s) => s.capture.mediaMs >= start + seconds * 1000, 60_000, 'footage');
      await daemon.press('record', 1, 3500);
      await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
    }
  } finally {
    expect(await daemon.terminate()).toBe(0);
  }
  return list(camera);
}

interface Verified {
  code: number;
  report: { ok: boolean; findings: Array<{ severity: string; code: string; segment?: string; incident?: string }> };
}

function verify(dir: string, key: string): Verified {
  const r = cli(['verify', dir, '--json', '--key', key]);
  return { code: r.code, report: JSON.parse(r.stdout) as Verified['report'] };
}

describe('evidence integrity', () => {
  let cam: ReturnType<typeof makeSimCamera>;
  let other: ReturnType<typeof makeSimCamera>;
  let incidents: ListedIncident[];
  let key: string;
  const storage = () => path.join(cam.dir, 'storage');
  const copies: string[] = [];
  /** A fresh copy of the camera's storage to tamper with. */
  const copy = () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-tamper-')), 'storage');
    cpSync(storage(), dir, { recursive: true });
    copies.push(dir);
    return dir;
  };
  const segPath = (root: string, inc: ListedIncident, seq: number) =>
    path.join(root, 'footage', inc.id, `${String(seq).padStart(4, '0')}.mp4.age`);
  const rel = (inc: ListedIncident, seq: number) => `footage/${inc.id}/${String(seq).padStart(4, '0')}.mp4.age`;
  const errors = (v: Verified) =>
    v.report.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.segment]);

  beforeAll(async () => {
    cam = makeSimCamera(small);
    other = makeSimCamera((c) => {
      small(c);
      c['device'].id = 'other-camera';
    });
    incidents = await record(cam, [22, 6]);
    await record(other, [4]);
    key = path.join(cam.dir, 'identity', 'device.pub');
  }, 240_000);
  afterAll(() => {
    for (const c of copies) rmSync(path.dirname(c), { recursive: true, force: true });
  });

  it('records signed manifests for every segment and a closing manifest for every incident; untouched storage verifies', () => {
    const [a, b] = incidents;
    expect(a?.segments.length).toBeGreaterThanOrEqual(3);
    expect(b?.segments.length).toBeGreaterThanOrEqual(1);
    for (const inc of incidents) {
      const files = readdirSync(path.join(storage(), 'footage', inc.id));
      expect(files).toContain('incident.manifest.json');
      for (const s of inc.segments) expect(files).toContain(`${path.basename(s.path)}.manifest.json`);
    }
    const v = verify(storage(), key);
    expect(v.report.findings).toEqual([]);
    expect(v.code).toBe(0);
    const closing = JSON.parse(
      readFileSync(path.join(storage(), 'footage', a?.id ?? '', 'incident.manifest.json'), 'utf8'),
    );
    expect(closing.payload).toMatchObject({
      kind: 'incident',
      ending: 'closed',
      trigger: 'line:trigger',
      preroll: { requestedMs: 2000 },
      warning: { state: 'suppressed', reason: 'disabled' },
      retention: { policeAccessDays: 30, maxMonths: 12 },
    });
    expect(closing.payload.segments).toHaveLength(a?.segments.length ?? -1);
  });

  it.each([
    [
      'one flipped byte in a segment',
      'hash-mismatch',
      (d: string, a: ListedIncident) => {
        const f = segPath(d, a, 1);
        const bytes = readFileSync(f);
        const at = Math.floor(bytes.length / 2);
        bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
        writeFileSync(f, bytes);
        return [rel(a, 1)];
      },
    ],
    [
      'a truncated segment',
      'size-mismatch',
      (d: string, a: ListedIncident) => {
        const f = segPath(d, a, 2);
        truncateSync(f, statSync(f).size - 1000);
        return [rel(a, 2)];
      },
    ],
    [
      'two segments swapped',
      'hash-mismatch',
      (d: string, a: ListedIncident) => {
        const [x, y] = [segPath(d, a, 0), segPath(d, a, 1)];
        renameSync(x, `${x}.swap`);
        renameSync(y, x);
        renameSync(`${x}.swap`, y);
        return [rel(a, 0), rel(a, 1)];
      },
    ],
    [
      'a segment deleted',
      'missing-segment',
      (d: string, a: ListedIncident) => {
        rmSync(segPath(d, a, 1));
        return [rel(a, 1)];
      },
    ],
  ])('%s is caught, naming the segment', (_name, code, tamper) => {
    const dir = copy();
    const a = incidents[0] as ListedIncident;
    const named = tamper(dir, a);
    const v = verify(dir, key);
    expect(v.code).toBe(1);
    for (const segment of named) expect(errors(v)).toContainEqual([code, segment]);
  });

  it('a segment from another incident inserted is caught', () => {
    const dir = copy();
    const [a, b] = incidents as [ListedIncident, ListedIncident];
    const next = a.segments.length;
    cpSync(segPath(dir, b, 0), segPath(dir, a, next));
    cpSync(`${segPath(dir, b, 0)}.manifest.json`, `${segPath(dir, a, next)}.manifest.json`);
    const v = verify(dir, key);
    expect(v.code).toBe(1);
    expect(errors(v)).toContainEqual(['misplaced', rel(a, next)]);
  });

  it('a segment from another device inserted is caught', () => {
    const dir = copy();
    const a = incidents[0] as ListedIncident;
    const [theirs] = list(other);
    const next = a.segments.length;
    cpSync(theirs?.segments[0]?.path ?? '', segPath(dir, a, next));
    cpSync(`${theirs?.segments[0]?.path}.manifest.json`, `${segPath(dir, a, next)}.manifest.json`);
    const v = verify(dir, key);
    expect(v.code).toBe(1);
    expect(errors(v)).toContainEqual(['wrong-device', rel(a, next)]);
  });

  it('an edited manifest is caught', () => {
    const dir = copy();
    const a = incidents[0] as ListedIncident;
    const file = `${segPath(dir, a, 1)}.manifest.json`;
    const env = JSON.parse(readFileSync(file, 'utf8'));
    env.payload.media.frames += 1;
    writeFileSync(file, JSON.stringify(env, null, 2));
    const v = verify(dir, key);
    expect(v.code).toBe(1);
    expect(errors(v)).toContainEqual(['bad-signature', rel(a, 1)]);
  });

  it('a removed audit entry is caught', () => {
    const dir = copy();
    const file = path.join(dir, 'audit.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.length).toBeGreaterThan(10);
    lines.splice(5, 1);
    writeFileSync(file, lines.join('\n'));
    const v = verify(dir, key);
    expect(v.code).toBe(1);
    expect(v.report.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toContain('audit-gap');
  });

  it('a verify of nothing is a usage error', () => {
    expect(cli(['verify', path.join(os.tmpdir(), 'no-such-evidence')]).code).toBe(2);
  });

  itWith('age')(
    "exports an incident as one MP4 of the segments' length, starting on a keyframe, with its report",
    () => {
      const a = incidents[0] as ListedIncident;
      const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-export-')), 'incident.mp4');
      const r = cli([
        'export',
        '--identity',
        cam.identityFile,
        '--incident',
        a.id,
        '--out',
        out,
        '--from',
        storage(),
        '--key',
        key,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const total = a.segments.reduce((n, s) => n + (s.endMediaMs - s.firstMediaMs), 0) / 1000;
      const duration = Number(
        spawnSync(
          'ffprobe',
          ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=duration', '-of', 'csv=p=0', out],
          {
            encoding: 'utf8',
          },
        ).stdout,
      );
      expect(Math.abs(duration - total)).toBeLessThanOrEqual(1 / 15 + 1e-6);
      const probe = probeVideo(out);
      expect(probe.packets[0]?.keyframe).toBe(true);
      expect(probe.packets.length).toBe(a.segments.reduce((n, s) => n + s.frames, 0));
      // moov before mdat: a player can start without reading to the end.
      const head = readFileSync(out)
        .subarray(0, 64 * 1024)
        .toString('latin1');
      expect(head.indexOf('moov')).toBeGreaterThan(0);
      expect(head.indexOf('moov')).toBeLessThan(
        head.indexOf('mdat') === -1 ? Number.POSITIVE_INFINITY : head.indexOf('mdat'),
      );
      const report = JSON.parse(readFileSync(out.replace(/\.mp4$/, '.json'), 'utf8'));
      expect(report).toMatchObject({
        incident: a.id,
        verification: { ok: true, keySource: 'given' },
        ending: 'closed',
      });
      expect(report.preroll.actualMs).toBeGreaterThanOrEqual(report.preroll.requestedMs);
      expect(report.segments.map((s: { endedAtPowerLoss: boolean }) => s.endedAtPowerLoss)).toEqual(
        a.segments.map(() => false),
      );
      expect(report.manifests).toHaveLength(a.segments.length + 1);
      // The age tool alone opens every segment too.
      const dec = mkdtempSync(path.join(os.tmpdir(), 'bodycam-export-age-'));
      for (const s of a.segments) expect(ageDecrypt(cam.identityFile, s.path, dec).ok).toBe(true);
    },
  );

  it('refuses a wrong identity with a clear message, writing nothing', () => {
    const a = incidents[0] as ListedIncident;
    const wrong = path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-wrong-')), 'k');
    expect(cli(['keygen', '--out', wrong]).code).toBe(0);
    const out = path.join(path.dirname(wrong), 'x.mp4');
    const r = cli(['export', '--identity', wrong, '--incident', a.id, '--out', out, '--from', storage(), '--key', key]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not open');
    expect(r.stderr).toContain('not one of the custodian keys');
    expect(readdirSync(path.dirname(wrong))).toEqual(['k']);
  });

  itWith('age')('the camera holds no key that opens its footage', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) files.push(p);
      }
    };
    walk(cam.dir);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(readFileSync(f).includes('AGE-SECRET-KEY'), f).toBe(false);
    const seg = incidents[0]?.segments[0]?.path ?? '';
    const deviceKey = path.join(cam.dir, 'identity', 'device.key');
    expect(statSync(deviceKey).mode & 0o777).toBe(0o600);
    const tryIt = spawnSync('age', ['-d', '-i', deviceKey, seg], { encoding: 'utf8' });
    expect(tryIt.status).not.toBe(0);
  });
});
