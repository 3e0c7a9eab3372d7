import { describe, expect, it } from 'vitest';
import { AuditChain, auditLine, parseAuditLog } from '../../../src/evidence/audit.ts';
import { canonicalJson } from '../../../src/evidence/canonical.ts';
import { envelopeHash, verifySignature } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';

const keys = generateDeviceKeys();
const privateKey = loadPrivateKey(keys.privatePem);
const publicKey = loadPublicKey(keys.publicPem);
const kid = keyId(publicKey);

function log(n: number): string[] {
  const chain = new AuditChain(null);
  return Array.from({ length: n }, (_, i) =>
    auditLine(
      chain.append(
        { at: `2026-03-01T10:00:0${i}.000Z`, kind: i === 0 ? 'activation' : 'stop', incident: 'inc-1', data: { i } },
        privateKey,
        kid,
      ),
    ),
  );
}

describe('AuditChain', () => {
  it('fills format, seq and prev, signs, and writes one canonical line per entry', () => {
    const chain = new AuditChain(null);
    const a = chain.append(
      { at: '2026-03-01T10:00:00.000Z', kind: 'docked', incident: null, data: {} },
      privateKey,
      kid,
    );
    const b = chain.append(
      { at: '2026-03-01T10:00:01.000Z', kind: 'stealth_on', incident: 'inc', data: { reason: 'undercover' } },
      privateKey,
      kid,
    );
    expect(a.payload).toMatchObject({ format: 'bodycam-audit/1', seq: 0, prev: null });
    expect(b.payload).toMatchObject({ seq: 1, prev: envelopeHash(a) });
    expect(chain.head).toEqual({ seq: 1, hash: envelopeHash(b) });
    expect(verifySignature(b, publicKey)).toBe(true);
    expect(auditLine(b)).toBe(`${canonicalJson(b)}\n`);
    expect(auditLine(b).indexOf('\n')).toBe(auditLine(b).length - 1);
  });

  it('refuses an entry that is not canonical-JSON data', () => {
    const chain = new AuditChain(null);
    expect(() =>
      chain.append(
        { at: '2026-03-01T10:00:00.000Z', kind: 'x', incident: null, data: { when: new Date() } },
        privateKey,
        kid,
      ),
    ).toThrow(/instance of Date/);
    expect(() => chain.append({ at: 'now', kind: 'x', incident: null, data: {} }, privateKey, kid)).toThrow(/\$\.at/);
    expect(chain.head).toBeNull();
  });
});

describe('parseAuditLog', () => {
  it('reads every complete line', () => {
    const parsed = parseAuditLog(log(3).join(''));
    expect(parsed.entries.map((e) => [e.line, e.envelope.payload.seq])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    expect(parsed.entries[1]?.envelope.payload.prev).toBe(parsed.entries[0]?.hash);
    expect(parsed.malformed).toEqual([]);
    expect(parsed.tornTail).toBeNull();
    expect(parseAuditLog('')).toEqual({ entries: [], malformed: [], tornTail: null });
  });

  it('reports text after the last newline as a torn tail, with the offset to cut back to', () => {
    const lines = log(3);
    const complete = lines.slice(0, 2).join('');
    for (const tail of [lines[2]?.slice(0, 40) ?? '', (lines[2] ?? '').slice(0, -1), '\0\0\0\0']) {
      const parsed = parseAuditLog(Buffer.from(complete + tail));
      expect(parsed.entries).toHaveLength(2);
      expect(parsed.malformed).toEqual([]);
      expect(parsed.tornTail).toEqual({ line: 3, offset: Buffer.byteLength(complete), bytes: Buffer.byteLength(tail) });
    }
  });

  it('reports an unparsable, malformed or non-canonical complete line as malformed, wherever it is', () => {
    const lines = log(3);
    const entry = JSON.parse(lines[1] ?? '');
    const pretty = `${JSON.stringify(entry, null, 1).replaceAll('\n', '')}\n`;
    const unsigned = `${JSON.stringify({ payload: entry.payload, keyId: entry.keyId })}\n`;
    const parsed = parseAuditLog([lines[0], '{"torn\n', '\n', pretty, unsigned, lines[2]].join(''));
    expect(parsed.entries.map((e) => e.line)).toEqual([1, 6]);
    expect(parsed.malformed.map((m) => m.line)).toEqual([2, 3, 4, 5]);
    expect(parsed.malformed[2]?.reason).toMatch(/canonical/);
    expect(parsed.malformed[3]?.reason).toMatch(/signature must be present/);
    expect(parsed.tornTail).toBeNull();
  });
});
