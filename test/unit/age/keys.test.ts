import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bech32Encode } from '../../../src/age/bech32.ts';
import { generateIdentity, identityFileText, parseRecipient, recipientForIdentity } from '../../../src/age/keys.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';
import { itWith } from '../../harness/tools.ts';

const EXAMPLE = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

function rejection(text: string): Error {
  try {
    parseRecipient(text);
  } catch (e) {
    expect(isBodycamError(e, 'SEAL_BAD_RECIPIENT')).toBe(true);
    return e as Error;
  }
  throw new Error(`accepted ${text}`);
}

describe('parseRecipient', () => {
  it('returns the 32-byte key of a valid recipient, ignoring surrounding whitespace and upper case', () => {
    const key = parseRecipient(EXAMPLE);
    expect(key.length).toBe(32);
    expect(parseRecipient(`  ${EXAMPLE}\n`).equals(key)).toBe(true);
    expect(parseRecipient(EXAMPLE.toUpperCase()).equals(key)).toBe(true);
    expect(bech32Encode('age', key)).toBe(EXAMPLE);
  });

  const secret = generateIdentity().identity;
  it.each([
    ['', /does not start with "age1"/],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', /does not start with "age1"/],
    [EXAMPLE.slice(0, -1), /checksum/],
    [`${EXAMPLE.slice(0, 10)}b${EXAMPLE.slice(11)}`, /bech32 alphabet/],
    [`${EXAMPLE.slice(0, 10)}${EXAMPLE.slice(10, 20).toUpperCase()}${EXAMPLE.slice(20)}`, /mixes upper and lower/],
    [bech32Encode('age', Buffer.alloc(31, 7)), /31 bytes instead of a 32-byte key/],
    [bech32Encode('age', Buffer.alloc(32)), /degenerate/],
    [`age1pq1${'q'.repeat(100)}`, /post-quantum/],
    [bech32Encode('age1yubikey', Buffer.alloc(33, 1)), /plugin recipients \(here "yubikey"\)/],
    ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB', /SSH keys are not supported/],
    [secret, /secret identity/],
  ])('rejects %j', (text, reason) => {
    const e = rejection(text);
    expect(e.message).toMatch(reason);
    expect(e.message).toMatch(/A valid recipient is an age X25519 public key/);
    expect(e.message).not.toContain(secret.slice(20));
  });
});

describe('generateIdentity', () => {
  it('makes an AGE-SECRET-KEY-1 identity whose recipient parses', () => {
    const { identity, recipient } = generateIdentity();
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(recipientForIdentity(identity)).toBe(recipient);
    expect(parseRecipient(recipient).length).toBe(32);
    expect(generateIdentity().identity).not.toBe(identity);
  });

  it('writes the identity file in the age-keygen layout', () => {
    const text = identityFileText('AGE-SECRET-KEY-1X', 'age1x', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)));
    expect(text).toBe('# created: 2024-01-02T03:04:05Z\n# public key: age1x\nAGE-SECRET-KEY-1X\n');
  });
});

describe('interop with age-keygen', () => {
  itWith('age-keygen')('derives the same recipient age-keygen prints for its own identity', () => {
    const file = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const identity = file.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1')) ?? '';
    const printed = /# public key: (age1\S+)/.exec(file)?.[1] ?? '';
    expect(recipientForIdentity(identity)).toBe(printed);
    expect(parseRecipient(printed).length).toBe(32);
  });

  itWith('age-keygen')('agrees with age-keygen -y on our identities', () => {
    const { identity, recipient } = generateIdentity();
    const derived = execFileSync('age-keygen', ['-y'], { input: `${identity}\n`, encoding: 'utf8' }).trim();
    expect(derived).toBe(recipient);
  });
});
