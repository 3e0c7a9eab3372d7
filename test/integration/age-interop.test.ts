import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, identityFileText, parseRecipient } from '../../src/age/keys.ts';
import { type AgeIdentity, openAgeBuffer, openAgeFile, parseIdentities } from '../../src/age/opener.ts';
import { AgeSealer } from '../../src/age/sealer.ts';
import { BodycamError } from '../../src/lib/errors.ts';
import { itWith } from '../harness/tools.ts';

const CHUNK = 64 * 1024;

/** Seals `plain` fed in random-size pieces (some empty), as the recorder would feed fragments. */
function seal(plain: Buffer, recipients: Buffer[]): Buffer {
  const sealer = new AgeSealer(recipients);
  const out = [sealer.header];
  let offset = 0;
  while (offset < plain.length) {
    const n = Math.min(plain.length - offset, randomInt(0, 3 * CHUNK));
    out.push(sealer.push(plain.subarray(offset, offset + n)));
    offset += n;
    const pending = offset - sealer.chunkCount * CHUNK;
    expect(pending).toBeGreaterThanOrEqual(offset === 0 ? 0 : 1);
    expect(pending).toBeLessThanOrEqual(CHUNK);
  }
  out.push(sealer.finish());
  return Buffer.concat(out);
}

describe('AgeSealer output and the age tool', () => {
  let dir: string;
  let identityFile: string;
  let recipient: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bodycam-age-'));
    const pair = generateIdentity();
    recipient = pair.recipient;
    identityFile = join(dir, 'custodian.txt');
    writeFileSync(identityFile, identityFileText(pair.identity, pair.recipient, new Date()), { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function decrypt(file: Buffer, identity = identityFile): { status: number | null; out: Buffer; err: string } {
    const r = spawnSync('age', ['-d', '-i', identity], { input: file, maxBuffer: 64 * 1024 * 1024 });
    return { status: r.status, out: r.stdout, err: r.stderr.toString() };
  }

  // Loops rather than it.each: the skip that itWith returns when a tool is missing has no .each.
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 1024 * 1024]) {
    itWith('age')(`decrypts a ${size}-byte payload`, () => {
      const plain = randomBytes(size);
      const file = seal(plain, [parseRecipient(recipient)]);
      const headerEnd = file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
      expect(file.length).toBe(headerEnd + 16 + size + 16 * Math.max(1, Math.ceil(size / CHUNK)));
      const r = decrypt(file);
      expect(r.err).toBe('');
      expect(r.status).toBe(0);
      expect(r.out.equals(plain)).toBe(true);
    });
  }

  itWith('age')('lets each of two recipients decrypt', () => {
    const other = generateIdentity();
    const otherFile = join(dir, 'other.txt');
    writeFileSync(otherFile, identityFileText(other.identity, other.recipient, new Date()));
    const plain = randomBytes(200_000);
    const file = seal(plain, [parseRecipient(recipient), parseRecipient(other.recipient)]);
    expect(file.toString('latin1', 0, 200).match(/-> X25519 /g)).toHaveLength(2);
    expect(decrypt(file).out.equals(plain)).toBe(true);
    expect(decrypt(file, otherFile).out.equals(plain)).toBe(true);
    const stranger = generateIdentity();
    const strangerFile = join(dir, 'stranger.txt');
    writeFileSync(strangerFile, identityFileText(stranger.identity, stranger.recipient, new Date()));
    expect(decrypt(file, strangerFile).status).not.toBe(0);
  });

  itWith('age')('accepts our recipient in age -e -r, and our identity file in age -d -i', () => {
    const plain = randomBytes(70_000);
    const encrypted = execFileSync('age', ['-e', '-r', recipient], { input: plain });
    expect(decrypt(encrypted).out.equals(plain)).toBe(true);
  });

  const alterations: [string, (f: Buffer) => number][] = [
    ['a payload byte', (f) => f.length - 100],
    ['the payload nonce', (f) => f.indexOf('\n', f.indexOf('\n---') + 1) + 1],
    ['the header MAC', (f) => f.indexOf('\n---') + 6],
    ['the stanza share', (f) => f.indexOf('-> X25519 ') + 12],
  ];
  for (const [what, at] of alterations) {
    itWith('age')(`makes age -d fail when ${what} is altered`, () => {
      const plain = randomBytes(150_000);
      const file = seal(plain, [parseRecipient(recipient)]);
      expect(decrypt(file).status).toBe(0);
      const pos = at(file);
      file[pos] = (file[pos] ?? 0) ^ 0x01;
      expect(decrypt(file).status).not.toBe(0);
    });
  }

  itWith('age')('keeps the file whole only with the final chunk: dropping it fails', () => {
    const plain = randomBytes(3 * CHUNK + 5);
    const file = seal(plain, [parseRecipient(recipient)]);
    expect(decrypt(file.subarray(0, file.length - 5 - 16)).status).not.toBe(0);
  });

  it('refuses to be used after finish', () => {
    const sealer = new AgeSealer([parseRecipient(recipient)]);
    sealer.finish();
    expect(() => sealer.push(Buffer.from('x'))).toThrow(/already finished/);
    expect(() => sealer.sealTail()).toThrow(/already finished/);
    expect(() => sealer.finish()).toThrow(/already finished/);
    expect(() => new AgeSealer([])).toThrow(/at least one recipient/);
  });

  itWith('age')('seals a tail that makes header + emitted chunks a valid file, without consuming it', () => {
    const sealer = new AgeSealer([parseRecipient(recipient)]);
    const plain = randomBytes(2 * CHUNK + 1000);
    const body = [sealer.header, sealer.push(plain.subarray(0, CHUNK + 10))];
    const early = decrypt(Buffer.concat([...body, sealer.sealTail()]));
    expect(early.out.equals(plain.subarray(0, CHUNK + 10))).toBe(true);
    body.push(sealer.push(plain.subarray(CHUNK + 10)));
    body.push(sealer.finish());
    expect(decrypt(Buffer.concat(body)).out.equals(plain)).toBe(true);
  });

  // The opener (custodian side) against the real tool: files age writes open to the same bytes, and files the
  // camera seals open to exactly what age -d gives.
  function identities(): AgeIdentity[] {
    return parseIdentities(readFileSync(identityFile, 'utf8'));
  }

  for (const size of [0, 1, CHUNK, CHUNK + 1, 1024 * 1024]) {
    itWith('age')(`opens a ${size}-byte file encrypted by age -e -r`, () => {
      const plain = randomBytes(size);
      const encrypted = execFileSync('age', ['-e', '-r', recipient], { input: plain, maxBuffer: 8 * 1024 * 1024 });
      expect(encrypted.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
      expect(openAgeBuffer(encrypted, identities()).equals(plain)).toBe(true);
    });
  }

  itWith('age')('streams a file age wrote to disk, and reports a stranger key as a wrong identity', async () => {
    const plain = randomBytes(3 * CHUNK + 17);
    const path = join(dir, 'by-age.age');
    execFileSync('age', ['-e', '-r', recipient, '-o', path], { input: plain });
    const pieces: Buffer[] = [];
    for await (const piece of openAgeFile(path, identities())) pieces.push(piece);
    expect(Buffer.concat(pieces).equals(plain)).toBe(true);

    const stranger = parseIdentities(generateIdentity().identity);
    let caught: unknown;
    try {
      for await (const _ of openAgeFile(path, stranger)) expect.unreachable('a stranger key opened the file');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BodycamError);
    expect((caught as BodycamError).code).toBe('AGE_NO_MATCHING_IDENTITY');
  });

  itWith('age')('opens a file age encrypted to two recipients with the second identity', () => {
    const other = generateIdentity();
    const plain = randomBytes(5000);
    const encrypted = execFileSync('age', ['-e', '-r', other.recipient, '-r', recipient], { input: plain });
    expect(encrypted.toString('latin1', 0, 300).match(/-> X25519 /g)).toHaveLength(2);
    expect(openAgeBuffer(encrypted, identities()).equals(plain)).toBe(true);
    expect(openAgeBuffer(encrypted, parseIdentities(other.identity)).equals(plain)).toBe(true);
  });

  itWith('age')('gives for a file AgeSealer sealed exactly what age -d gives', () => {
    for (const size of [0, CHUNK, 3 * CHUNK + 5]) {
      const plain = randomBytes(size);
      const file = seal(plain, [parseRecipient(recipient)]);
      const byAge = decrypt(file);
      expect(byAge.status).toBe(0);
      const opened = openAgeBuffer(file, identities());
      expect(opened.equals(byAge.out)).toBe(true);
      expect(opened.equals(plain)).toBe(true);
    }
  });

  itWith('age', 'age-keygen')('opens with an identity file written by age-keygen', () => {
    const keyFile = join(dir, 'age-keygen.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    const plain = randomBytes(1000);
    const encrypted = execFileSync('age', ['-e', '-i', keyFile], { input: plain });
    const [identity, ...rest] = parseIdentities(readFileSync(keyFile, 'utf8'));
    expect(rest).toHaveLength(0);
    expect(identity?.recipient).toBe(/# public key: (age1\S+)/.exec(readFileSync(keyFile, 'utf8'))?.[1]);
    expect(openAgeBuffer(encrypted, identity ? [identity] : []).equals(plain)).toBe(true);
  });
});
