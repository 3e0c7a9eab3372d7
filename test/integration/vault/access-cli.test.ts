/**
 * The policy's edges through the built command line against Ceph's RADOS Gateway: `bodycam vault index rebuild`
 * indexes an incident from its signed closing manifest in the bucket, then `bodycam vault access` decides at the
 * incident's activation + 29 days (granted, exit 0) and + 31 days (refused, exit 3, until a prosecutor's decision
 * recorded by `vault authorise` is named), another organisation's account is refused, an incident whose objects were
 * deleted is gone after the next rebuild, and `bodycam vault log` verifies the custody log with every decision in order.
 *
 * Time: each command runs under faketime (libfaketime), started at the day it stands for; the product has no clock
 * override. The gateway keeps real time, so each command's first request is refused as skewed
 * (RequestTimeTooSkewed) and the S3 client corrects its clock offset from the gateway's answer and sends it again.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey } from '../../../src/evidence/keys.ts';
import { incidentManifest, manifestFileText } from '../../../src/evidence/manifest.ts';
import { incidentObject } from '../../../src/evidence/object-keys.ts';
import { retentionMetadata } from '../../../src/evidence/retention.ts';
import type { StoredVersion } from '../../../src/store/port.ts';
import type { S3ObjectStore } from '../../../src/store/s3.ts';
import { putVerified } from '../../../src/store/verified-put.ts';
import {
  CEPH_MISSING,
  type CephCluster,
  createBucket,
  credentialsFile,
  objectStore,
  rawClient,
  startCeph,
} from '../../harness/ceph.ts';
import { CLI, type CliResult, REPO } from '../../harness/daemon.ts';

const FAKETIME_MISSING = (process.env['PATH'] ?? '').split(':').every((d) => {
  try {
    accessSync(path.join(d, 'faketime'), constants.X_OK);
    return false;
  } catch {
    return true;
  }
});
const MISSING = [...CEPH_MISSING, ...(FAKETIME_MISSING ? ['faketime'] : [])];
const SKIP =
  MISSING.length === 0
    ? ''
    : ` (skipped: ${MISSING.join(', ')} missing; scripts/setup.sh installs ceph-mon ceph-osd radosgw ceph-common faketime)`;

const DAY = 86_400_000;
const MINUTE = 60_000;
const BUCKET = 'evidence';
const ROOT = { prefix: 'ev', organisation: 'pz1' };
const REASON = 'PV 2026/1234: assault on the Meir';
const DECISION = 'AN.12.L3.2026';
const PASSWORD = 'a long enough passphrase';
/**
 * Recorded on the last whole minute but one, in real time (the gateway's locks run on it). Each command's fake clock
 * starts on a whole minute after it, so the log's times can be compared to the minute.
 */
const ACTIVATED = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
/** The incident's objects are locked only a few seconds, so the test can delete them as their retention ends. */
const LOCK_MS = 5000;

const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-access-cli-'));
const config = path.join(dir, 'vault.json');
let ceph: CephCluster;
let raw: S3Client;
let store: S3ObjectStore;

/** `argv` run as is, or under faketime with its clock started at `atMs` (UTC). */
function run(argv: string[], atMs?: number, env: Record<string, string> = {}): CliResult {
  const stamp =
    atMs === undefined
      ? ''
      : new Date(atMs)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, '');
  const full = atMs === undefined ? argv : ['faketime', '-f', `@${stamp}`, ...argv];
  const r = spawnSync(full[0] as string, full.slice(1), {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env, TZ: 'UTC' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The built CLI, under faketime when `atMs` is given. */
const bodycam = (args: string[], atMs?: number) => run([process.execPath, CLI, ...args], atMs);

/** One ListObjects from a client that does not retry, under faketime: what the gateway makes of a skewed clock. */
const UNRETRIED = `
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
const e = process.env;
const c = new S3Client({ endpoint: e.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
  credentials: { accessKeyId: e.S3_KEY, secretAccessKey: e.S3_SECRET } });
await c.send(new ListObjectsV2Command({ Bucket: e.S3_BUCKET })).then(() => console.log('accepted'), (x) => console.log(x.name));
`;

/** One closed incident as a dock leaves it: a sealed segment and the closing manifest signed by the device's key. */
async function dockIncident(): Promise<{ versions: StoredVersion[]; lockedUntil: number }> {
  const lockedUntil = Date.now() + LOCK_MS;
  const device = loadPrivateKey(generateDeviceKeys().privatePem);
  const closing = incidentManifest({
    device: 'cam1',
    incident: 'INC1',
    ending: 'closed',
    trigger: 'button',
    activatedAt: new Date(ACTIVATED).toISOString(),
    stoppedAt: new Date(ACTIVATED + 30_000).toISOString(),
    stopReason: 'button',
    segments: [{ seq: 0, manifest: 'a'.repeat(64) }],
    preroll: { requestedMs: 30_000, actualMs: 29_500, firstKeyframeOffsetMs: 0 },
    warning: { state: 'given', reason: null, startedMediaMs: 1000, durationMs: 4000, languages: ['nl'] },
    clock: { source: 'ntp', offsetMs: 12 },
    retention: { policeAccessDays: 30, maxMonths: 12 },
    signedAt: new Date(ACTIVATED + 31_000).toISOString(),
  });
  const env = sign({ ...closing, chainSeq: 1, prev: 'c'.repeat(64) }, device, keyId(device));
  const versions: StoredVersion[] = [];
  for (const [file, body] of [
    ['0000.mp4.age', Buffer.alloc(4096, 7)],
    ['incident.manifest.json', Buffer.from(manifestFileText(env))],
  ] as const) {
    const put = await putVerified(store, {
      key: incidentObject(ROOT, 'cam1', 'INC1', file),
      source: body,
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(lockedUntil) },
      metadata: retentionMetadata({
        recordedMs: ACTIVATED,
        recordedBy: 'device',
        minimumUntilMs: ACTIVATED + 30 * DAY,
        deleteDueMs: ACTIVATED + 365 * DAY,
      }),
      contentType: 'application/octet-stream',
    });
    versions.push(put.version);
  }
  return { versions, lockedUntil };
}

beforeAll(async () => {
  if (MISSING.length > 0) return;
  ceph = await startCeph();
  raw = rawClient(ceph);
  await createBucket(ceph, BUCKET);
  store = objectStore(ceph, BUCKET);
}, 90_000);
afterAll(async () => {
  store?.close();
  raw?.destroy();
  await ceph?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(MISSING.length > 0)(`bodycam vault access against Ceph RGW, under faketime${SKIP}`, () => {
  it('day 29 granted, day 31 refused then granted under a decision, another organisation refused, a deleted incident gone; the log verifies', async () => {
    const { versions, lockedUntil } = await dockIncident();
    const custody = generateDeviceKeys();
    writeFileSync(path.join(dir, 'custody.key'), custody.privatePem, { mode: 0o600 });
    writeFileSync(path.join(dir, 'custody.pub'), custody.publicPem);
    writeFileSync(path.join(dir, 'pw'), `${PASSWORD}\n`, { mode: 0o600 });
    const creds = credentialsFile(dir, ceph.admin);
    writeFileSync(
      config,
      JSON.stringify({
        version: 1,
        index: { kind: 'sqlite', file: 'vault.sqlite' },
        store: { location: `s3://${BUCKET}/ev`, endpoint: ceph.endpoint, credentialsFile: path.basename(creds) },
        custody: { signingKey: 'custody.key', lockDays: 1 },
      }),
    );
    for (const [name, org, role] of [
      ['jansen', 'pz1', 'investigator'],
      ['de.smet', 'pz1', 'prosecutor'],
      ['claes', 'pz2', 'investigator'],
    ] as const) {
      const added = bodycam([
        'vault',
        'user',
        'add',
        '--config',
        config,
        '--name',
        name,
        '--org',
        org,
        '--role',
        role,
        '--password-file',
        path.join(dir, 'pw'),
      ]);
      expect(added.code, added.stderr).toBe(0);
    }

    const rebuilt = bodycam(['vault', 'index', 'rebuild', '--config', config]);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toBe(`index rebuilt from s3://${BUCKET} at ${ceph.endpoint}: 1 incident(s)\n`);

    const access = (as: string, atMs: number, ...more: string[]) =>
      bodycam(
        ['vault', 'access', '--config', config, '--as', as, '--incident', 'INC1', '--reason', REASON, ...more],
        atMs,
      );
    const granted = (out: CliResult, basis: string, atMs: number) => {
      expect(out.code, out.stderr).toBe(0);
      const m = /^granted: jansen may open pz1\/cam1\/INC1 until (\S+) \(basis: (.+); logged\)\n$/.exec(out.stdout);
      expect(m?.[2], out.stdout).toBe(basis);
      // Four hours from the command's own (fake) clock, which started at atMs.
      const until = Date.parse(m?.[1] ?? '');
      expect(until).toBeGreaterThanOrEqual(atMs + 4 * 3_600_000);
      expect(until).toBeLessThan(atMs + 4 * 3_600_000 + MINUTE);
    };

    const day29 = ACTIVATED + 29 * DAY;
    // The gateway refuses a request signed on the fake clock: the commands below pass because the S3 client corrects
    // its clock offset from that refusal and sends the request again.
    const unretried = (atMs?: number) =>
      run([process.execPath, '--input-type=module', '-e', UNRETRIED], atMs, {
        S3_ENDPOINT: ceph.endpoint,
        S3_KEY: ceph.admin.accessKeyId,
        S3_SECRET: ceph.admin.secretAccessKey,
        S3_BUCKET: BUCKET,
      }).stdout;
    expect(unretried()).toBe('accepted\n');
    expect(unretried(day29)).toBe('RequestTimeTooSkewed\n');

    granted(access('jansen', day29), 'own-organisation', day29);

    const foreign = access('claes', day29 + MINUTE, '--org', 'pz1');
    expect(foreign).toMatchObject({
      code: 3,
      stdout: '',
      stderr: 'refused: incident INC1 belongs to another organisation and was not shared with yours (logged)\n',
    });

    const day31 = ACTIVATED + 31 * DAY;
    expect(access('jansen', day31)).toMatchObject({
      code: 3,
      stdout: '',
      stderr:
        "refused: recorded 31 days ago: after 30 days only under a prosecutor's decision (name its reference) (logged)\n",
    });
    expect(access('jansen', day31 + MINUTE, '--authorisation', DECISION)).toMatchObject({
      code: 3,
      stderr: `refused: no prosecutor's decision ${DECISION} for incident INC1 is recorded here (or it has run out) (logged)\n`,
    });

    // Only a prosecutor records a decision: an investigator's is refused, and logged.
    expect(
      bodycam(
        [
          'vault',
          'authorise',
          '--config',
          config,
          '--as',
          'jansen',
          '--incident',
          'INC1',
          '--reference',
          DECISION,
          '--reason',
          'I decide for myself',
        ],
        day31 + 2 * MINUTE,
      ),
    ).toMatchObject({
      code: 3,
      stdout: '',
      stderr: 'refused: only a prosecutor of pz1 records a decision on its footage (logged)\n',
    });
    const recorded = bodycam(
      [
        'vault',
        'authorise',
        '--config',
        config,
        '--as',
        'de.smet',
        '--incident',
        'INC1',
        '--reference',
        DECISION,
        '--reason',
        'investigation 2026/1234 may view the footage',
      ],
      day31 + 3 * MINUTE,
    );
    expect(recorded).toMatchObject({
      code: 0,
      stdout: `recorded: decision ${DECISION} on pz1/cam1/INC1 (logged)\n`,
    });
    granted(
      access('jansen', day31 + 4 * MINUTE, '--authorisation', DECISION),
      `prosecutor-authorisation ${DECISION}`,
      day31 + 4 * MINUTE,
    );

    // The incident's objects deleted (their lock over on the gateway's clock), the index rebuilt: nothing is left.
    await new Promise((r) => setTimeout(r, Math.max(0, lockedUntil + 1500 - Date.now())));
    for (const v of versions) {
      await raw.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: v.key, VersionId: v.versionId }));
    }
    const again = bodycam(['vault', 'index', 'rebuild', '--config', config]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(': 0 incident(s)\n');
    expect(access('jansen', day31 + 5 * MINUTE, '--device', 'cam1', '--authorisation', DECISION)).toMatchObject({
      code: 3,
      stdout: '',
      stderr: 'refused: incident INC1 was deleted at the end of its retention: nothing is left (logged)\n',
    });

    const log = bodycam([
      'vault',
      'log',
      '--store',
      `s3://${BUCKET}/ev`,
      '--s3-endpoint',
      ceph.endpoint,
      '--s3-credentials',
      creds,
      '--organisation',
      'pz1',
      '--public-key',
      path.join(dir, 'custody.pub'),
    ]);
    expect(log.code, log.stderr).toBe(0);
    const lines = log.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('custody log verifies: 8 record(s) signed by the given key');
    const at = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    expect(
      lines.slice(0, -1).map((l) => {
        const [seq, when, action, operator, incident, objects, reason] = l.split('\t');
        return [seq, when?.slice(0, 16), action, operator, incident, objects, reason];
      }),
    ).toEqual([
      ['1', at(day29), 'access-grant', 'jansen (investigator, pz1)', 'INC1', '0 object(s)', REASON],
      ['2', at(day29 + MINUTE), 'access-refuse', 'claes (investigator, pz2)', 'INC1', '0 object(s)', REASON],
      ['3', at(day31), 'access-refuse', 'jansen (investigator, pz1)', 'INC1', '0 object(s)', REASON],
      ['4', at(day31 + MINUTE), 'access-refuse', 'jansen (investigator, pz1)', 'INC1', '0 object(s)', REASON],
      [
        '5',
        at(day31 + 2 * MINUTE),
        'access-refuse',
        'jansen (investigator, pz1)',
        'INC1',
        '0 object(s)',
        'I decide for myself',
      ],
      [
        '6',
        at(day31 + 3 * MINUTE),
        'authorise',
        'de.smet (prosecutor, pz1)',
        'INC1',
        '0 object(s)',
        'investigation 2026/1234 may view the footage',
      ],
      ['7', at(day31 + 4 * MINUTE), 'access-grant', 'jansen (investigator, pz1)', 'INC1', '0 object(s)', REASON],
      ['8', at(day31 + 5 * MINUTE), 'access-refuse', 'jansen (investigator, pz1)', 'INC1', '0 object(s)', REASON],
    ]);
  }, 180_000);
});
