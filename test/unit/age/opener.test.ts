import { createCipheriv, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bech32Encode } from '../../../src/age/bech32.ts';
import { b64, formatStanza, headerMac, hkdf, VERSION_LINE, X25519_INFO } from '../../../src/age/header.ts';
import {
  generateIdentity,
  identityFileText,
  parseRecipient,
  rawPublicKey,
  x25519PublicKey,
} from '../../../src/age/keys.ts';
import {
  AgeOpener,
  isDamagedAgeFile,
  isWrongIdentity,
  openAgeBuffer,
  openAgeFile,
  parseIdentities,
} from '../../../src/age/opener.ts';
import { AgeSealer, CHUNK_SIZE, SEALED_CHUNK_SIZE } from '../../../src/age/sealer.ts';
import { BodycamError } from '../../../src/lib/errors.ts';

const ours = generateIdentity();
const ourIdentities = parseIdentities(ours.identity);
const ourKey = parseRecipient(ours.recipient);
const other = generateIdentity();

function seal(plain: Buffer, recipients: Buffer[] = [ourKey]): Buffer {
  const sealer = new AgeSealer(recipients);
  return Buffer.concat([sealer.header, sealer.push(plain), sealer.finish()]);
}

/** Bytes of the header through its MAC line (the payload nonce follows). */
function headerLength(file: Buffer): number {
  return file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
}

/** The error `fn` throws; fails the test if it throws nothing or something that is not a BodycamError. */
function failure(fn: () => unknown): BodycamError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BodycamError) return e;
    throw e;
  }
  throw new Error('expected an error, got none');
}

function flip(file: Buffer, at: number): Buffer {
  const copy = Buffer.from(file);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

/** Replaces the header text of a sealed file through `edit` (the MAC is not recomputed). */
function editHeader(file: Buffer, edit: (header: string) => string): Buffer {
  const end = headerLength(file);
  return Buffer.concat([Buffer.from(edit(file.toString('latin1', 0, end)), 'latin1'), file.subarray(end)]);
}

/** An X25519 stanza wrapping `fileKey` to `recipient`, written independently of the sealer. */
function x25519Stanza(recipient: Buffer, fileKey: Buffer): string {
  const ephemeral = generateKeyPairSync('x25519');
  const share = rawPublicKey(ephemeral.publicKey);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: x25519PublicKey(recipient) });
  const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_INFO);
  return formatStanza('X25519', [b64(share)], chacha(wrapKey, Buffer.alloc(12), fileKey));
}

function chacha(key: Buffer, nonce: Buffer, plain: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const body = cipher.update(plain);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/**
 * A hand-built age file with a valid MAC: `stanzas` as text, then `chunks` of plaintext sealed in order, the last
 * one flagged final. Lets a test break exactly one rule while every other check passes.
 */
function buildFile(stanzas: (fileKey: Buffer) => string, chunks: Buffer[]): Buffer {
  const fileKey = randomBytes(16);
  const macInput = `${VERSION_LINE}\n${stanzas(fileKey)}---`;
  const nonce = randomBytes(16);
  const payloadKey = hkdf(fileKey, nonce, 'payload');
  const sealed = chunks.map((plain, i) => {
    const chunkNonce = Buffer.alloc(12);
    chunkNonce.writeUIntBE(i, 5, 6);
    chunkNonce[11] = i === chunks.length - 1 ? 1 : 0;
    return chacha(payloadKey, chunkNonce, plain);
  });
  return Buffer.concat([Buffer.from(`${macInput} ${b64(headerMac(fileKey, macInput))}\n`), nonce, ...sealed]);
}

describe('openAgeBuffer on AgeSealer output', () => {
  it.each([0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 5 * CHUNK_SIZE + 123])('returns the %i plaintext bytes', (size) => {
    const plain = randomBytes(size);
    const file = seal(plain);
    const chunks = Math.max(1, Math.ceil(size / CHUNK_SIZE));
    expect(file.length).toBe(headerLength(file) + 16 + size + 16 * chunks);
    expect(openAgeBuffer(file, ourIdentities).equals(plain)).toBe(true);
  });

  it.each([1, 7, 4096, SEALED_CHUNK_SIZE, SEALED_CHUNK_SIZE + 1, 3 * SEALED_CHUNK_SIZE + 5])(
    'gives the same plaintext when the file arrives in pieces of %i bytes',
    (piece) => {
      const plain = randomBytes(3 * CHUNK_SIZE + 77);
      const file = seal(plain);
      const opener = new AgeOpener(ourIdentities);
      const out: Buffer[] = [];
      for (let i = 0; i < file.length; i += piece) out.push(opener.push(file.subarray(i, i + piece)));
      out.push(opener.finish());
      expect(Buffer.concat(out).equals(plain)).toBe(true);
      // Nothing is released before it is known to be authentic and not the last chunk.
      expect(out.every((b) => b.length % CHUNK_SIZE === 0 || b === out[out.length - 1])).toBe(true);
    },
  );

  it('opens a file for two recipients with the identity of the second stanza', () => {
    const plain = randomBytes(100_000);
    const file = seal(plain, [parseRecipient(other.recipient), ourKey]);
    const opener = new AgeOpener(ourIdentities);
    expect(opener.header).toBeUndefined();
    const out = Buffer.concat([opener.push(file), opener.finish()]);
    expect(out.equals(plain)).toBe(true);
    expect(opener.header?.stanzas.map((s) => s.type)).toEqual(['X25519', 'X25519']);
    // The first stanza really is someone else's: a file with only that stanza does not open.
    expect(failure(() => openAgeBuffer(seal(plain, [parseRecipient(other.recipient)]), ourIdentities)).code).toBe(
      'AGE_NO_MATCHING_IDENTITY',
    );
  });

  it('tries every identity given, in any order', () => {
    const plain = randomBytes(10);
    const both = parseIdentities(`${other.identity}\n${ours.identity}\n`);
    expect(openAgeBuffer(seal(plain), both).equals(plain)).toBe(true);
  });

  it('skips stanzas of unknown types, as age does', () => {
    const plain = randomBytes(5000);
    const file = buildFile(
      (key) => `${formatStanza('example.com/enigma', ['x'], randomBytes(40))}${x25519Stanza(ourKey, key)}`,
      [plain],
    );
    expect(openAgeBuffer(file, ourIdentities).equals(plain)).toBe(true);
  });
});

describe('telling a wrong key from a damaged file', () => {
  const plain = randomBytes(4 * CHUNK_SIZE + 1000);
  const file = seal(plain);
  const payloadStart = headerLength(file) + 16;

  it('reports a wrong identity as AGE_NO_MATCHING_IDENTITY, naming the identities tried', () => {
    const e = failure(() => openAgeBuffer(file, parseIdentities(other.identity)));
    expect(e.code).toBe('AGE_NO_MATCHING_IDENTITY');
    expect(e.message).toMatch(/None of the given identities is a recipient of this file/);
    expect(e.message).toContain('1 X25519 recipient');
    expect(e.message).toContain(other.recipient);
    expect(isWrongIdentity(e)).toBe(true);
    expect(isDamagedAgeFile(e)).toBe(false);
  });

  it('reports a file only for recipient types it cannot open as AGE_NO_MATCHING_IDENTITY, naming the type', () => {
    const scrypt = buildFile(() => formatStanza('scrypt', [b64(randomBytes(16)), '18'], randomBytes(32)), [plain]);
    const e = failure(() => openAgeBuffer(scrypt, ourIdentities));
    expect(e.code).toBe('AGE_NO_MATCHING_IDENTITY');
    expect(e.message).toMatch(/recipients of type scrypt, which cannot be opened here/);
  });

  it('reports a different but valid header MAC as AGE_CORRUPT', () => {
    const forged = editHeader(file, (h) => h.replace(/--- \S+\n$/, `--- ${b64(randomBytes(32))}\n`));
    const e = failure(() => openAgeBuffer(forged, ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.message).toMatch(/header MAC does not match/);
    expect(isDamagedAgeFile(e)).toBe(true);
  });

  it('reports a flipped byte in the MAC line as AGE_CORRUPT', () => {
    expect(failure(() => openAgeBuffer(flip(file, file.indexOf('\n---') + 10), ourIdentities)).code).toBe(
      'AGE_CORRUPT',
    );
  });

  it('reports an altered stanza body as AGE_NO_MATCHING_IDENTITY: it no longer opens with any key', () => {
    // A valid base64 character replaced by another inside the body: the stanza stays well-formed but does not
    // authenticate, which is indistinguishable from a stanza for someone else.
    const altered = editHeader(file, (h) => {
      const lines = h.split('\n');
      const body = lines[2] ?? '';
      lines[2] = `${body.slice(0, 5)}${body[5] === 'A' ? 'B' : 'A'}${body.slice(6)}`;
      return lines.join('\n');
    });
    expect(failure(() => openAgeBuffer(altered, ourIdentities)).code).toBe('AGE_NO_MATCHING_IDENTITY');
  });

  it('reports a flipped payload byte as AGE_CORRUPT, naming the chunk and its offset', () => {
    const at = payloadStart + 2 * SEALED_CHUNK_SIZE + 500;
    const e = failure(() => openAgeBuffer(flip(file, at), ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.details).toMatchObject({ chunk: 2, offset: payloadStart + 2 * SEALED_CHUNK_SIZE });
    expect(e.message).toContain(`chunk 2 (at byte ${payloadStart + 2 * SEALED_CHUNK_SIZE})`);
  });

  it('reports a flipped payload nonce as AGE_CORRUPT at chunk 0', () => {
    const e = failure(() => openAgeBuffer(flip(file, payloadStart - 3), ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.details).toMatchObject({ chunk: 0, offset: payloadStart });
  });

  it('reports swapped chunks as AGE_CORRUPT', () => {
    const a = file.subarray(payloadStart, payloadStart + SEALED_CHUNK_SIZE);
    const b = file.subarray(payloadStart + SEALED_CHUNK_SIZE, payloadStart + 2 * SEALED_CHUNK_SIZE);
    const swapped = Buffer.concat([
      file.subarray(0, payloadStart),
      b,
      a,
      file.subarray(payloadStart + 2 * SEALED_CHUNK_SIZE),
    ]);
    expect(failure(() => openAgeBuffer(swapped, ourIdentities)).details).toMatchObject({ chunk: 0 });
  });

  it('reports a file cut at a chunk boundary as AGE_TRUNCATED, naming where it ends', () => {
    const cut = payloadStart + 2 * SEALED_CHUNK_SIZE;
    const e = failure(() => openAgeBuffer(file.subarray(0, cut), ourIdentities));
    expect(e.code).toBe('AGE_TRUNCATED');
    expect(e.details).toMatchObject({ chunk: 1, offset: cut });
    expect(isDamagedAgeFile(e)).toBe(true);
  });

  it('reports a file cut inside a chunk as AGE_CORRUPT: a partial chunk cannot be told from a damaged one', () => {
    const e = failure(() => openAgeBuffer(file.subarray(0, payloadStart + SEALED_CHUNK_SIZE + 1000), ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.details).toMatchObject({ chunk: 1, offset: payloadStart + SEALED_CHUNK_SIZE });
    expect(e.message).toMatch(/damaged or cut short/);
  });

  it.each<[string, () => number, RegExp]>([
    ['nothing at all', () => 0, /the file is empty/],
    ['part of the version line', () => 10, /inside its header/],
    ['the header without its MAC line', () => file.indexOf('\n---') + 1, /inside its header/],
    ['the header without the whole nonce', () => payloadStart - 5, /inside the payload nonce/],
    ['the header and nonce but no chunk', () => payloadStart, /before its first chunk/],
  ])('reports a file of %s as AGE_TRUNCATED', (_what, cut, message) => {
    const e = failure(() => openAgeBuffer(file.subarray(0, cut()), ourIdentities));
    expect(e.code).toBe('AGE_TRUNCATED');
    expect(e.message).toMatch(message);
  });

  it('reports bytes after a full-size final chunk as AGE_CORRUPT', () => {
    const exact = seal(randomBytes(CHUNK_SIZE));
    const e = failure(() => openAgeBuffer(Buffer.concat([exact, Buffer.from('trailing')]), ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.message).toMatch(/bytes after the final chunk/);
    expect(e.details).toMatchObject({ chunk: 0, offset: exact.length });
  });

  it('reports bytes after a short final chunk as AGE_CORRUPT', () => {
    expect(failure(() => openAgeBuffer(Buffer.concat([file, Buffer.from('x')]), ourIdentities)).code).toBe(
      'AGE_CORRUPT',
    );
    const empty = seal(Buffer.alloc(0));
    expect(failure(() => openAgeBuffer(Buffer.concat([empty, Buffer.alloc(1)]), ourIdentities)).code).toBe(
      'AGE_CORRUPT',
    );
  });

  it('accepts an empty final chunk only as the only chunk', () => {
    const full = randomBytes(CHUNK_SIZE);
    const valid = buildFile((key) => x25519Stanza(ourKey, key), [full]);
    expect(openAgeBuffer(valid, ourIdentities).equals(full)).toBe(true);
    const emptyOnly = buildFile((key) => x25519Stanza(ourKey, key), [Buffer.alloc(0)]);
    expect(openAgeBuffer(emptyOnly, ourIdentities).length).toBe(0);
    const emptyLast = buildFile((key) => x25519Stanza(ourKey, key), [full, Buffer.alloc(0)]);
    const e = failure(() => openAgeBuffer(emptyLast, ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.message).toMatch(/final chunk 1 .* is empty/);
  });
});

describe('malformed headers', () => {
  const file = seal(randomBytes(1000));
  it.each<[string, (h: string) => string, RegExp]>([
    ['another kind of file', () => 'GIF89a....\n', /not an age file/],
    ['another age version', (h) => h.replace('/v1', '/v2'), /format "v2"; only v1/],
    ['ASCII armor', () => '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n', /ASCII-armored/],
    ['CRLF line ends', (h) => h.replaceAll('\n', '\r\n'), /CRLF line ends/],
    ['padded base64 in a body', (h) => h.replace(/\n(\S{43})\n---/, '\n$1=\n---'), /line 3 is not a stanza body line/],
    ['non-canonical base64 (stray bits)', (h) => h.replace(/\n(\S{42})\S\n---/, (_m, b) => `\n${b}B\n---`), /line 3/],
    [
      'a body line over 64 columns',
      (h) => h.replace(/\n(\S{43})\n---/, `\n${'A'.repeat(68)}\n---`),
      /line 3 is not a stanza body line \(canonical base64, at most 64 columns\)/,
    ],
    ['an empty argument', (h) => h.replace('-> X25519 ', '-> X25519  '), /empty argument/],
    ['a stray line', (h) => h.replace('\n---', '\nhello\n---'), /line 4 is neither a recipient stanza/],
    ['no stanza', (h) => h.replace(/-> [\s\S]*?\n(?=---)/, ''), /before any recipient stanza/],
    ['a short MAC', (h) => h.replace(/--- \S+/, '--- AAAA'), /32-byte MAC/],
    ['an X25519 stanza with two arguments', (h) => h.replace(/(-> X25519 \S+)/, '$1 extra'), /exactly one argument/],
    [
      'an X25519 stanza with a short share',
      (h) => h.replace(/-> X25519 \S+/, `-> X25519 ${b64(randomBytes(31))}`),
      /32-byte share/,
    ],
  ])('rejects %s as AGE_CORRUPT', (_what, edit, message) => {
    const e = failure(() => openAgeBuffer(editHeader(file, edit), ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.message).toMatch(message);
  });

  it('rejects an X25519 stanza whose body is not 32 bytes', () => {
    const long = buildFile(
      (key) =>
        x25519Stanza(ourKey, key).replace(
          /\n(\S+)\n$/,
          (_m, b) => `\n${b64(Buffer.concat([Buffer.from(b, 'base64'), Buffer.alloc(1)]))}\n`,
        ),
      [Buffer.from('x')],
    );
    const e = failure(() => openAgeBuffer(long, ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.message).toMatch(/33-byte body/);
  });

  it('rejects a low-order share (all-zero shared secret)', () => {
    const zero = buildFile(() => formatStanza('X25519', [b64(Buffer.alloc(32))], randomBytes(32)), [Buffer.from('x')]);
    const e = failure(() => openAgeBuffer(zero, ourIdentities));
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.message).toMatch(/degenerate|all-zero/);
  });

  it('refuses a header that does not end within 1 MiB instead of buffering it', () => {
    const endless = Buffer.from(`${VERSION_LINE}\n-> x ${'a'.repeat(1024 * 1024 + 10)}`);
    const opener = new AgeOpener(ourIdentities);
    const e = failure(() => {
      for (let i = 0; i < endless.length; i += 65536) opener.push(endless.subarray(i, i + 65536));
    });
    expect(e.code).toBe('AGE_CORRUPT');
    expect(e.message).toMatch(/does not end within/);
  });

  it('fails a non-age file on its first bytes, not at the end', () => {
    const opener = new AgeOpener(ourIdentities);
    expect(failure(() => opener.push(Buffer.from('\x1a\x45\xdf\xa3'))).message).toMatch(/not an age file/);
    const long = new AgeOpener(ourIdentities);
    expect(failure(() => long.push(Buffer.alloc(1000, 0x41))).message).toMatch(/not an age file/);
  });

  it('reports a valid header cut inside a line as AGE_TRUNCATED', () => {
    const opener = new AgeOpener(ourIdentities);
    opener.push(Buffer.from('age-encryption.org/v1\n-> X25519 '));
    opener.push(Buffer.from('AAAA'));
    const e = failure(() => opener.finish());
    expect(e.code).toBe('AGE_TRUNCATED');
    expect(e.message).toMatch(/inside its header/);
  });
});

describe('AgeOpener', () => {
  it('is spent after finish and after a failure', () => {
    const opener = new AgeOpener(ourIdentities);
    opener.push(seal(Buffer.from('hello')));
    expect(opener.finish().toString()).toBe('hello');
    expect(failure(() => opener.push(Buffer.alloc(1))).code).toBe('SEAL_STATE');
    expect(failure(() => opener.finish()).code).toBe('SEAL_STATE');

    const failed = new AgeOpener(parseIdentities(other.identity));
    expect(failure(() => failed.push(seal(Buffer.from('x')))).code).toBe('AGE_NO_MATCHING_IDENTITY');
    expect(failure(() => failed.finish()).code).toBe('SEAL_STATE');
  });

  it('needs at least one identity', () => {
    expect(failure(() => new AgeOpener([])).code).toBe('AGE_BAD_IDENTITY');
  });
});

describe('parseIdentities', () => {
  const dataPart = ours.identity.slice('AGE-SECRET-KEY-1'.length);

  function rejection(text: string): BodycamError {
    const e = failure(() => parseIdentities(text));
    expect(e.code).toBe('AGE_BAD_IDENTITY');
    for (let i = 0; i + 8 <= dataPart.length; i += 4) {
      expect(e.message.toUpperCase()).not.toContain(dataPart.slice(i, i + 8));
    }
    expect(JSON.stringify(e.details).toUpperCase()).not.toContain(dataPart.slice(0, 8));
    return e;
  }

  it('reads an identity file as age-keygen and bodycam keygen write it', () => {
    const [identity, ...rest] = parseIdentities(identityFileText(ours.identity, ours.recipient, new Date()));
    expect(rest).toHaveLength(0);
    expect(identity?.recipient).toBe(ours.recipient);
  });

  it('reads comments, blank lines, CRLF, surrounding spaces and several identities', () => {
    const text = `\uFEFF# custodians\r\n\r\n  ${ours.identity}  \r\n# second\r\n${other.identity}\r\n`;
    expect(parseIdentities(text).map((i) => i.recipient)).toEqual([ours.recipient, other.recipient]);
  });

  it('accepts a lower-case identity', () => {
    expect(parseIdentities(ours.identity.toLowerCase())[0]?.recipient).toBe(ours.recipient);
  });

  it('never shows the secret when printed or serialised', () => {
    const [identity] = parseIdentities(ours.identity);
    expect(inspect(identity, { showHidden: true, depth: 5 }).toUpperCase()).not.toContain(dataPart.slice(0, 8));
    expect(JSON.stringify(identity)).toBe(JSON.stringify({ recipient: ours.recipient }));
  });

  it('rejects a mistyped identity, naming the line but not the secret', () => {
    const last = ours.identity.at(-1) === 'Q' ? 'P' : 'Q';
    const e = rejection(`# created: now\n# public key: ${ours.recipient}\n${ours.identity.slice(0, -1)}${last}\n`);
    expect(e.message).toMatch(/^Line 3 of the identity file is not usable: .*checksum does not match/);
    expect(e.details).toEqual({ line: 3 });
  });

  it('rejects a character outside the bech32 alphabet by position only', () => {
    const e = rejection(`${ours.identity.slice(0, 20)}B${ours.identity.slice(21)}`);
    expect(e.message).toMatch(/character 21 is not allowed in bech32/);
  });

  it.each([
    ['nothing but comments', '# nothing here\n\n', /holds no AGE-SECRET-KEY-1/],
    ['a recipient instead of an identity', `${other.recipient}\n`, /it is a recipient \(public key\)/],
    ['a post-quantum identity', 'AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCC', /post-quantum/],
    ['a plugin identity', 'AGE-PLUGIN-YUBIKEY-1QQQQQQ', /plugin identities/],
    ['an SSH key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n', /SSH keys/],
    ['mixed case', `${ours.identity.slice(0, 30)}${ours.identity.slice(30).toLowerCase()}`, /mixes upper and lower/],
    ['a key of the wrong length', bech32Encode('age-secret-key-', Buffer.alloc(31, 1)).toUpperCase(), /32-byte key/],
  ])('rejects %s', (_what, text, message) => {
    expect(rejection(text).message).toMatch(message);
  });
});

describe('openAgeFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-opener-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams a large file in bounded pieces', async () => {
    const plain = randomBytes(20 * CHUNK_SIZE + 3);
    const path = join(dir, 'big.age');
    writeFileSync(path, seal(plain));
    const pieces: Buffer[] = [];
    for await (const piece of openAgeFile(path, ourIdentities)) pieces.push(piece);
    expect(Buffer.concat(pieces).equals(plain)).toBe(true);
    expect(pieces.length).toBeGreaterThan(4);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(4 * CHUNK_SIZE);
  });

  it('yields the authentic chunks, then fails a truncated file with its path', async () => {
    const plain = randomBytes(10 * CHUNK_SIZE + 3);
    const file = seal(plain);
    const path = join(dir, 'cut.age');
    writeFileSync(path, file.subarray(0, headerLength(file) + 16 + 8 * SEALED_CHUNK_SIZE));
    const pieces: Buffer[] = [];
    let caught: unknown;
    try {
      for await (const piece of openAgeFile(path, ourIdentities)) pieces.push(piece);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BodycamError);
    const e = caught as BodycamError;
    expect(e.code).toBe('AGE_TRUNCATED');
    expect(e.message.startsWith(`${path}: `)).toBe(true);
    expect(e.details).toMatchObject({ path, chunk: 7 });
    expect(Buffer.concat(pieces).equals(plain.subarray(0, 7 * CHUNK_SIZE))).toBe(true);
  });

  it('reports a missing file as STORAGE_IO', async () => {
    const iterator = openAgeFile(join(dir, 'missing.age'), ourIdentities);
    await expect(iterator.next()).rejects.toMatchObject({ code: 'STORAGE_IO' });
  });
});
