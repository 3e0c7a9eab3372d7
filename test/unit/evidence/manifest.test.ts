import { describe, expect, it } from 'vitest';
import { envelopeHash, verifySignature } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import {
  incidentManifest,
  ManifestChain,
  manifestFileText,
  parseManifest,
  type SegmentManifest,
  segmentManifest,
} from '../../../src/evidence/manifest.ts';
import { INCIDENT_MANIFEST, manifestFileFor } from '../../../src/evidence/paths.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';

const keys = generateDeviceKeys();
const privateKey = loadPrivateKey(keys.privatePem);
const publicKey = loadPublicKey(keys.publicPem);
const kid = keyId(publicKey);

function segment(seq: number, overrides: Partial<SegmentManifest> = {}) {
  return segmentManifest({
    device: 'cam-7',
    incident: 'cam-7-20260301T100000Z-0001',
    segment: {
      seq,
      file: `${String(seq).padStart(4, '0')}.mp4.age`,
      sha256: 'ab'.repeat(32),
      bytes: 10,
      ending: 'closed',
    },
    media: { firstMs: 0, endMs: 2000, frames: 60, fragments: 2 },
    wall: { first: '2026-03-01T10:00:00.000Z', end: '2026-03-01T10:00:02.000Z' },
    preroll: seq === 0 ? { requestedMs: 30000, actualMs: 30400, firstKeyframeOffsetMs: 0 } : null,
    clock: { source: 'rtc', offsetMs: null },
    retention: { policeAccessDays: 30, maxMonths: 12 },
    signedAt: '2026-03-01T10:00:02.100Z',
    ...overrides,
  });
}

function formatError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(isBodycamError(e, 'EVIDENCE_FORMAT')).toBe(true);
    return e as Error;
  }
  throw new Error('accepted');
}

describe('ManifestChain', () => {
  it('numbers manifests from 0 and links each to the hash of the one before', () => {
    const chain = new ManifestChain(null);
    expect(chain.head).toBeNull();
    const first = chain.append(segment(0), privateKey, kid);
    const second = chain.append(segment(1), privateKey, kid);
    const closing = chain.append(
      incidentManifest({
        device: 'cam-7',
        incident: 'cam-7-20260301T100000Z-0001',
        ending: 'interrupted',
        trigger: 'button',
        activatedAt: '2026-03-01T10:00:00.000Z',
        stoppedAt: null,
        stopReason: null,
        segments: [
          { seq: 0, manifest: envelopeHash(first) },
          { seq: 1, manifest: envelopeHash(second) },
        ],
        preroll: null,
        warning: { state: 'unknown', reason: null, startedMediaMs: null, durationMs: null, languages: [] },
        clock: { source: 'unset', offsetMs: null },
        retention: { policeAccessDays: 30, maxMonths: 12 },
        signedAt: '2026-03-01T10:05:00.000Z',
      }),
      privateKey,
      kid,
    );
    expect([first, second, closing].map((e) => [e.payload.chainSeq, e.payload.prev])).toEqual([
      [0, null],
      [1, envelopeHash(first)],
      [2, envelopeHash(second)],
    ]);
    expect(closing.payload.kind).toBe('incident');
    expect(first.payload.format).toBe('bodycam-manifest/1');
    expect(chain.head).toEqual({ seq: 2, hash: envelopeHash(closing) });
    expect([first, second, closing].every((e) => verifySignature(e, publicKey))).toBe(true);
  });

  it('resumes from a stored head and is deterministic', () => {
    const a = new ManifestChain({ seq: 41, hash: 'cd'.repeat(32) });
    const b = new ManifestChain({ seq: 41, hash: 'cd'.repeat(32) });
    const ea = a.append(segment(3), privateKey, kid);
    expect(ea.payload.chainSeq).toBe(42);
    expect(ea.payload.prev).toBe('cd'.repeat(32));
    expect(b.append(segment(3), privateKey, kid)).toEqual(ea);
    const head = a.head;
    if (head !== null) head.seq = 0;
    expect(a.head?.seq).toBe(42);
  });

  it('refuses a malformed payload before signing and does not advance', () => {
    const chain = new ManifestChain(null);
    const bad = segment(0, { wall: { first: 'yesterday', end: '2026-03-01T10:00:02.000Z' } });
    expect(formatError(() => chain.append(bad, privateKey, kid)).message).toMatch(/\$\.wall\.first must be a UTC ISO/);
    const traversal = segment(0);
    traversal.segment.file = '../../etc/passwd';
    expect(formatError(() => chain.append(traversal, privateKey, kid)).message).toMatch(/segment\.file/);
    const preroll = segment(1, { preroll: { requestedMs: 1, actualMs: 1, firstKeyframeOffsetMs: 0 } });
    expect(formatError(() => chain.append(preroll, privateKey, kid)).message).toMatch(/preroll must be null/);
    const extra = { ...segment(0), note: 'x' };
    expect(formatError(() => chain.append(extra, privateKey, kid)).message).toMatch(/\$\.note must be absent/);
    expect(chain.head).toBeNull();
    expect(() => new ManifestChain({ seq: -1, hash: 'ab'.repeat(32) })).toThrow(/chain head/);
  });
});

describe('manifest files', () => {
  it('are named after the segment and round-trip through pretty JSON', () => {
    expect(manifestFileFor('0007.mp4.age')).toBe('0007.mp4.age.manifest.json');
    expect(INCIDENT_MANIFEST).toBe('incident.manifest.json');
    const env = new ManifestChain(null).append(segment(0), privateKey, kid);
    const text = manifestFileText(env);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "payload": {');
    expect(parseManifest(text)).toEqual(env);
  });

  it('refuses text that is not a well-formed manifest envelope, naming the field', () => {
    const env = new ManifestChain(null).append(segment(0), privateKey, kid);
    expect(formatError(() => parseManifest('{"payload":')).message).toMatch(/not valid JSON/);
    const wrongFormat = { ...env, payload: { ...env.payload, format: 'bodycam-manifest/2' } };
    expect(formatError(() => parseManifest(JSON.stringify(wrongFormat))).message).toMatch(/\$\.payload\.format/);
    const noSig = { payload: env.payload, keyId: env.keyId };
    expect(formatError(() => parseManifest(JSON.stringify(noSig))).message).toMatch(/\$\.signature must be present/);
    const prevAtZero = { ...env, payload: { ...env.payload, prev: 'ab'.repeat(32) } };
    expect(formatError(() => parseManifest(JSON.stringify(prevAtZero))).message).toMatch(/null at chainSeq 0/);
    const bytes = { ...env, payload: { ...env.payload, segment: { ...env.payload.segment, bytes: 1.5 } } };
    expect(formatError(() => parseManifest(JSON.stringify(bytes))).message).toMatch(
      /segment\.bytes must be an integer/,
    );
  });
});
