import { describe, expect, it } from 'vitest';
import { generateDeviceKeys, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import {
  chainProblems,
  custodyText,
  nextLink,
  parseCustodyText,
  type SignedCustodyRecord,
  signCustodyRecord,
} from '../../../src/vault/custody-record.ts';

const pair = generateDeviceKeys();
const key = loadPrivateKey(pair.privatePem);
const pub = loadPublicKey(pair.publicPem);

function chain(n: number): SignedCustodyRecord[] {
  const out: SignedCustodyRecord[] = [];
  for (let i = 0; i < n; i++) {
    const link = nextLink(out.at(-1) ?? null);
    out.push(
      signCustodyRecord(
        {
          ...link,
          at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
          operator: 'insp. Peeters',
          action: 'hold-set',
          reason: `case ${i}`,
          incident: 'INC1',
          objects: [{ key: 'a/b', versionId: String(i) }],
        },
        key,
      ),
    );
  }
  return out;
}

describe('custody records', () => {
  it('a chain of three verifies under the public key', () => {
    expect(chainProblems(chain(3), pub)).toEqual([]);
  });

  it('an edited reason breaks the signature and the next record’s link', () => {
    const c = chain(3);
    const first = c[0] as SignedCustodyRecord;
    c[0] = { ...first, record: { ...first.record, reason: 'nothing' } };
    expect(chainProblems(c, pub)).toEqual([
      expect.stringMatching(/^record 1: signature/),
      'record 2: does not chain to record 1',
    ]);
  });

  it('a removed record is a gap', () => {
    const c = chain(3);
    c.splice(1, 1);
    expect(chainProblems(c, pub)).toEqual(['record 3: expected sequence number 2']);
  });

  it('a log signed by another key fails against the given one', () => {
    const other = loadPublicKey(generateDeviceKeys().publicPem);
    expect(chainProblems(chain(2), other)).toHaveLength(2);
  });

  it('reads its stored text back, and refuses non-canonical or malformed text', () => {
    const [r] = chain(1);
    const t = custodyText(r as SignedCustodyRecord);
    expect(parseCustodyText(t)).toEqual({ ok: r });
    expect(parseCustodyText(`${t} `)).toEqual({ error: 'not in canonical form' });
    expect(parseCustodyText('{')).toEqual({ error: 'not JSON' });
    expect(parseCustodyText(t.replace('"hold-set"', '"erase"'))).toEqual({
      error: 'a record field is missing or of the wrong type',
    });
  });
});
