/**
 * Attacks on evidence through the real CLI on files written by real daemons and a real dock (test/harness/
 * evidence-scene.ts), one test per attack: export refuses what it did not verify, the verifier cannot be blinded,
 * deletions show (up to what a camera alone can prove), trust anchors come only from outside the tree, hostile input
 * costs bounded work, and the dock notices a card rolled back to an earlier image.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/evidence/keys.ts';
import { receiptFileText, signReceipt } from '../../src/evidence/receipt.ts';
import { until } from '../harness/broker.ts';
import { cli, Daemon, type ListedIncident } from '../harness/daemon.ts';
import { buildScene, copyOf, dispose, type Scene, type SceneCamera, storageOf } from '../harness/evidence-scene.ts';

interface Report {
  ok: boolean;
  layout: { kind: string };
  findings: Array<{ severity: string; code: string; device: string; segment?: string; message: string }>;
  devices: Array<{ device: string; keySource: string; completeness: { chain: { seq: number } | null } }>;
}

let scene: Scene;
beforeAll(async () => {
  scene = await buildScene();
}, 420_000);
afterAll(() => dispose(scene));

const A = () => scene.a;
const B = () => scene.b;
const keyArg = (c: SceneCamera) => ['--key', `${c.id}=${c.key}`];
const inc = (c: SceneCamera, n: number) => c.incidents[n] as ListedIncident;
const dockEvidence = (dockDir: string) => path.join(dockDir, 'evidence');

function verify(target: string, ...args: string[]): { code: number; report: Report; stderr: string } {
  const r = cli(['verify', target, '--json', ...args], 120_000);
  return { code: r.code, report: (r.stdout === '' ? {} : JSON.parse(r.stdout)) as Report, stderr: r.stderr };
}
const errors = (r: Report) =>
  r.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.segment ?? ''}`);

function exportIt(c: SceneCamera, from: string, incident: string, ...args: string[]) {
  const out = path.join(scene.scratch, `out-${Math.random().toString(16).slice(2)}`, 'incident.mp4');
  mkdirSync(path.dirname(out));
  const r = cli(
    ['export', '--identity', c.camera.identityFile, '--incident', incident, '--out', out, '--from', from, ...args],
    120_000,
  );
  return { ...r, out, written: existsSync(out) };
}

/** The audit log's lines; `index(pred)` finds the first whose payload matches. */
function auditOf(file: string) {
  const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  const payload = (l: string) => JSON.parse(l).payload as { incident: string | null; kind: string };
  return {
    lines,
    first: (incident: string) => lines.findIndex((l) => payload(l).incident === incident),
    write: (kept: string[]) => writeFileSync(file, kept.map((l) => `${l}\n`).join('')),
  };
}

describe('untouched evidence verifies in every layout, and exports', () => {
  it('a camera directory, its storage, a dock directory and its evidence directory', () => {
    const cam = verify(A().camera.dir, ...keyArg(A()), '--dock-key', scene.dockKey);
    expect(cam.report.findings).toEqual([]);
    expect(cam.code).toBe(0);
    expect(cam.report.layout.kind).toBe('camera-directory');
    expect(cam.report.devices[0]?.completeness.chain?.seq).toBeGreaterThan(0);
    expect(verify(storageOf(A()), ...keyArg(A()), '--dock-key', scene.dockKey).code).toBe(0);
    const dock = verify(scene.dock.dir);
    expect(dock.report.findings).toEqual([]);
    // Completeness is proven up to each camera's newest manifest the dock holds, by the dock's own record.
    expect(dock.report.devices.every((d) => (d.completeness.chain?.seq ?? -1) > 0)).toBe(true);
    expect(dock.report.devices.map((d) => [d.device, d.keySource])).toEqual([
      ['cam-a', 'enrolment'],
      ['cam-b', 'enrolment'],
    ]);
    const evidence = verify(dockEvidence(scene.dock.dir), ...keyArg(A()), ...keyArg(B()), '--dock-key', scene.dockKey);
    expect(evidence.report.layout.kind).toBe('dock-evidence');
    expect(evidence.code).toBe(0);
  });

  it('exports from a camera directory and from a dock directory', () => {
    const fromCamera = exportIt(A(), A().camera.dir, inc(A(), 2).id, ...keyArg(A()), '--dock-key', scene.dockKey);
    expect(fromCamera.stderr).toBe('');
    expect(fromCamera.code).toBe(0);
    const fromDock = exportIt(A(), scene.dock.dir, inc(A(), 0).id);
    expect(fromDock.stderr).toBe('');
    expect(fromDock.code).toBe(0);
    expect(JSON.parse(readFileSync(fromDock.out.replace(/\.mp4$/, '.json'), 'utf8')).verification).toMatchObject({
      ok: true,
      keySource: 'enrolment',
    });
  });
});

describe('export refuses what it did not verify', () => {
  it('an incident directory replaced by a symbolic link to other footage', () => {
    const dock = copyOf(scene, scene.dock.dir);
    const [one, two] = [inc(A(), 0).id, inc(A(), 1).id];
    const dir = path.join(dockEvidence(dock), 'cam-a');
    rmSync(path.join(dir, two), { recursive: true });
    symlinkSync(one, path.join(dir, two));
    const r = exportIt(A(), dock, two);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unexpected-entry: a symbolic link/);
    expect(r.written).toBe(false);
  });

  it('a segment spliced in by two symbolic links', () => {
    const dock = copyOf(scene, scene.dock.dir);
    const dir = path.join(dockEvidence(dock), 'cam-a');
    const [one, two] = [inc(A(), 0).id, inc(A(), 1).id];
    for (const name of ['0000.mp4.age', '0000.mp4.age.manifest.json']) {
      rmSync(path.join(dir, two, name));
      symlinkSync(path.join('..', one, name), path.join(dir, two, name));
    }
    const r = exportIt(A(), dock, two);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cam-a/${two}/0000.mp4.age: unexpected-entry`);
    expect(r.written).toBe(false);
  });

  it("a hidden copy under a dock's evidence directory", () => {
    const dock = copyOf(scene, scene.dock.dir);
    const hidden = path.join(dockEvidence(dock), '.old', 'cam-a');
    mkdirSync(path.dirname(hidden));
    cpSync(path.join(dockEvidence(dock), 'cam-a'), hidden, { recursive: true });
    truncateSync(path.join(hidden, inc(A(), 1).id, '0000.mp4.age'), 100); // the altered copy, hidden
    const v = verify(dock);
    expect(v.code).toBe(1);
    expect(errors(v.report)).toContain('unexpected-entry .old');
    expect(exportIt(A(), dock, inc(A(), 1).id).code).toBe(1);
  });

  it("an incident filed by camera A under camera B's incident id", () => {
    const dock = copyOf(scene, scene.dock.dir);
    const theirs = inc(B(), 0).id;
    cpSync(path.join(dockEvidence(dock), 'cam-b', theirs), path.join(dockEvidence(dock), 'cam-a', theirs), {
      recursive: true,
    });
    const ambiguous = exportIt(B(), dock, theirs);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('present under devices cam-a, cam-b: say which with --device');
    const asA = exportIt(B(), dock, theirs, '--device', 'cam-a');
    expect(asA.code).toBe(1);
    expect(asA.stderr).toContain('foreign-incident');
    expect(asA.written).toBe(false);
    expect(exportIt(B(), dock, theirs, '--device', 'cam-b').code).toBe(0);
  });

  it('an incident id that climbs out of the evidence is a usage error', () => {
    const r = exportIt(A(), scene.dock.dir, '../..');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not an incident id');
  });
});

describe('the verifier cannot be blinded', () => {
  const truncated = (dock: string) => {
    const file = path.join(dockEvidence(dock), 'cam-a', inc(A(), 1).id, '0001.mp4.age');
    truncateSync(file, 100);
    return `size-mismatch cam-a/${inc(A(), 1).id}/0001.mp4.age`;
  };

  it("by an empty audit.jsonl at the top of a dock's evidence directory", () => {
    const dock = copyOf(scene, scene.dock.dir);
    writeFileSync(path.join(dockEvidence(dock), 'audit.jsonl'), '');
    const named = truncated(dock);
    for (const target of [dock, dockEvidence(dock)]) {
      const v = verify(target, ...keyArg(A()), ...keyArg(B()));
      expect(v.code).toBe(1);
      expect(errors(v.report)).toContain(named);
      expect(errors(v.report)).toContain('unexpected-entry audit.jsonl');
    }
  });

  it('by a directory named footage inside a device', () => {
    const dock = copyOf(scene, scene.dock.dir);
    mkdirSync(path.join(dockEvidence(dock), 'cam-a', 'footage'));
    const named = truncated(dock);
    const v = verify(dock);
    expect(v.code).toBe(1);
    expect(errors(v.report)).toEqual(expect.arrayContaining([named, 'unexpected-entry cam-a/footage']));
  });
});

describe('deletions show', () => {
  const cardCopy = () => copyOf(scene, A().camera.dir);
  const check = (cam: string) => verify(cam, ...keyArg(A()), '--dock-key', scene.dockKey);

  it('the newest incident removed (its audit entries name it)', () => {
    const cam = cardCopy();
    rmSync(path.join(cam, 'storage', 'footage', inc(A(), 2).id), { recursive: true });
    const v = check(cam);
    expect(v.code).toBe(1);
    expect(errors(v.report)).toContain(`manifest-missing footage/${inc(A(), 2).id}/incident.manifest.json`);
  });

  it("an incident's end cut off", () => {
    const cam = cardCopy();
    const dir = path.join(cam, 'storage', 'footage', inc(A(), 2).id);
    const last =
      readdirSync(dir)
        .filter((f) => f.endsWith('.mp4.age'))
        .sort()
        .at(-1) ?? '';
    for (const f of [last, `${last}.manifest.json`, 'incident.manifest.json']) rmSync(path.join(dir, f));
    const v = check(cam);
    expect(v.code).toBe(1);
    expect(errors(v.report)).toContain(`manifest-missing footage/${inc(A(), 2).id}/${last}.manifest.json`);
  });

  it('the oldest incident and the head of the audit log removed', () => {
    const cam = cardCopy();
    const first = inc(A(), 0).id;
    rmSync(path.join(cam, 'storage', 'footage', first), { recursive: true });
    const audit = auditOf(path.join(cam, 'storage', 'audit.jsonl'));
    audit.write(audit.lines.slice(audit.first(inc(A(), 1).id)));
    const v = check(cam);
    expect(v.code).toBe(1);
    const codes = errors(v.report).map((e) => e.split(' ')[0]);
    expect(codes).toEqual(expect.arrayContaining(['chain-starts-late', 'audit-starts-late']));
  });

  it('deletion below the head the dock recorded, on the card', () => {
    const cam = cardCopy();
    for (const n of [1, 2]) rmSync(path.join(cam, 'storage', 'footage', inc(A(), n).id), { recursive: true });
    const audit = auditOf(path.join(cam, 'storage', 'audit.jsonl'));
    audit.write(audit.lines.slice(0, audit.first(inc(A(), 1).id)));
    const v = check(cam);
    expect(v.code).toBe(1);
    expect(errors(v.report).filter((e) => e.startsWith('below-dock-record'))).toHaveLength(2);
  });

  it('what a camera alone cannot prove: the newest incident and the audit tail removed before the next docking', () => {
    const cam = cardCopy();
    rmSync(path.join(cam, 'storage', 'footage', inc(A(), 2).id), { recursive: true });
    const audit = auditOf(path.join(cam, 'storage', 'audit.jsonl'));
    audit.write(audit.lines.slice(0, audit.first(inc(A(), 2).id)));
    const v = check(cam);
    expect(v.code).toBe(0);
    // The report says how far completeness is proven: the dock's record stops before the removed incident.
    expect(v.report.devices[0]?.completeness.chain).not.toBeNull();
  });

  it("deletion below the head the dock recorded, in the dock's evidence", () => {
    const dock = copyOf(scene, scene.dock.dir);
    const dir = path.join(dockEvidence(dock), 'cam-a');
    rmSync(path.join(dir, inc(A(), 1).id), { recursive: true });
    const audit = auditOf(path.join(dir, 'audit.jsonl'));
    audit.write(audit.lines.slice(0, audit.first(inc(A(), 1).id)));
    const v = verify(dock);
    expect(v.code).toBe(1);
    expect(errors(v.report).filter((e) => e.startsWith('below-dock-record'))).toHaveLength(2);
  });
});

describe('trust anchors come from outside the tree', () => {
  it('dock.pub replaced and receipts self-signed do not turn a deleted segment into an offloaded one', () => {
    const cam = copyOf(scene, A().camera.dir);
    const forger = generateKeyPairSync('ed25519');
    const storage = path.join(cam, 'storage');
    writeFileSync(path.join(storage, 'dock.pub'), forger.publicKey.export({ format: 'pem', type: 'spki' }));
    const segment = inc(A(), 2).segments[0];
    if (segment === undefined) throw new Error('a segment expected');
    const file = path.join(storage, path.relative(storageOf(A()), segment.path));
    const receipt = signReceipt(
      {
        kind: 'segment',
        device: 'cam-a',
        incident: inc(A(), 2).id,
        seq: segment.seq,
        file: path.basename(file),
        sha256: segment.sha256 ?? '',
        bytes: segment.bytes,
        manifest: 'f'.repeat(64),
        storedAt: new Date().toISOString(),
      },
      forger.privateKey,
      keyId(forger.publicKey),
    );
    rmSync(file);
    writeFileSync(`${file}.receipt.json`, receiptFileText(receipt));
    const v = verify(cam, ...keyArg(A()), '--dock-key', scene.dockKey);
    expect(v.code).toBe(1);
    expect(errors(v.report)).toEqual(
      expect.arrayContaining(['dock-key-differs dock.pub', expect.stringMatching(/^missing-segment /)]),
    );
  });

  it("a key given for another device, on this device's storage", () => {
    const named = verify(storageOf(A()), ...keyArg(B()), '--dock-key', scene.dockKey);
    expect(named.code).toBe(1);
    expect(errors(named.report)).toEqual(expect.arrayContaining(['key-unused ', 'unknown-key ']));
    const unnamed = verify(storageOf(A()), '--key', B().key, '--dock-key', scene.dockKey);
    expect(unnamed.code).toBe(1);
    expect(errors(unnamed.report).some((e) => e.startsWith('wrong-device'))).toBe(true);
  });
});

describe('hostile input costs bounded work', () => {
  it('a manifest claiming segment 2^32 and an audit line nested 200,000 deep', () => {
    const cam = copyOf(scene, A().camera.dir);
    const storage = path.join(cam, 'storage');
    const theirs = JSON.parse(readFileSync(`${inc(A(), 2).segments[0]?.path}.manifest.json`, 'utf8'));
    const fake = `cam-a-20300101T000000Z-beef`;
    theirs.payload.incident = fake;
    theirs.payload.segment.seq = 2 ** 32;
    theirs.payload.chainSeq = 2 ** 32;
    theirs.payload.preroll = null; // well-formed: only its signature fails
    mkdirSync(path.join(storage, 'footage', fake));
    writeFileSync(path.join(storage, 'footage', fake, '0000.mp4.age.manifest.json'), JSON.stringify(theirs));
    appendFileSync(path.join(storage, 'audit.jsonl'), `${'['.repeat(200_000)}${']'.repeat(200_000)}\n`);
    const v = verify(cam, ...keyArg(A()), '--dock-key', scene.dockKey);
    expect(v.code).toBe(1);
    expect(errors(v.report)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^bad-signature /), expect.stringMatching(/^audit-malformed /)]),
    );
    const forced = exportIt(A(), cam, inc(A(), 2).id, ...keyArg(A()), '--dock-key', scene.dockKey, '--force');
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('NOT VERIFIED');
  });
});

describe('the dock notices a card rolled back to an earlier image', () => {
  it('reports the camera in its log and in dock status', async () => {
    rmSync(storageOf(A()), { recursive: true });
    cpSync(scene.earlierA, storageOf(A()), { recursive: true });
    const daemon = new Daemon(A().camera);
    scene.daemons.push(daemon);
    await daemon.waitFor((s) => s.state === 'buffering', 60_000, 'buffering');
    const status = () => JSON.parse(cli(['dock', 'status', '--dir', scene.dock.dir, '--json']).stdout);
    const r = cli(['ctl', '--config', A().camera.configFile, 'set', 'dock', 'on']);
    expect(r.code).toBe(0);
    await until(
      () => status().devices.find((d: { device: string }) => d.device === 'cam-a')?.docking?.rollback != null,
      'the rollback reported',
      60_000,
    );
    const cam = status().devices.find((d: { device: string }) => d.device === 'cam-a');
    expect(cam.docking.rollback).toMatch(/manifest chain ends at \d+, but the dock holds manifests up to chainSeq \d+/);
    expect(cli(['dock', 'status', '--dir', scene.dock.dir]).stdout).toContain('ROLLED BACK');
    await daemon.terminate();
  }, 120_000);
});
