import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, identityFileText, parseRecipient } from '../../src/age/keys.ts';
import { AgeSealer } from '../../src/age/sealer.ts';

const AGE = '/usr/bin/age';
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

describe.skipIf(!existsSync(AGE))('AgeSealer output and the age tool', () => {
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
    const r = spawnSync(AGE, ['-d', '-i', identity], { input: file, maxBuffer: 64 * 1024 * 1024 });
    return { status: r.status, out: r.stdout, err: r.stderr.toString() };
  }

  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 1024 * 1024])('decrypts a %i-byte payload', (size) => {
    const plain = randomBytes(size);
    const file = seal(plain, [parseRecipient(recipient)]);
    const headerEnd = file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
    expect(file.length).toBe(headerEnd + 16 + size + 16 * Math.max(1, Math.ceil(size / CHUNK)));
    const r = decrypt(file);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out.equals(plain)).toBe(true);
  });

  it('lets each of two recipients decrypt', () => {
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

  it('accepts our recipient in age -e -r, and our identity file in age -d -i', () => {
    const plain = randomBytes(70_000);
    const encrypted = execFileSync(AGE, ['-e', '-r', recipient], { input: plain });
    expect(decrypt(encrypted).out.equals(plain)).toBe(true);
  });

  it.each([
    ['a payload byte', (f: Buffer) => f.length - 100],
    ['the payload nonce', (f: Buffer) => f.indexOf('\n', f.indexOf('\n---') + 1) + 1],
    ['the header MAC', (f: Buffer) => f.indexOf('\n---') + 6],
    ['the stanza share', (f: Buffer) => f.indexOf('-> X25519 ') + 12],
  ])('makes age -d fail when %s is altered', (_what, at) => {
    const plain = randomBytes(150_000);
    const file = seal(plain, [parseRecipient(recipient)]);
    expect(decrypt(file).status).toBe(0);
    const pos = at(file);
    file[pos] = (file[pos] ?? 0) ^ 0x01;
    expect(decrypt(file).status).not.toBe(0);
  });

  it('keeps the file whole only with the final chunk: dropping it fails', () => {
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

  it('seals a tail that makes header + emitted chunks a valid file, without consuming it', () => {
    const sealer = new AgeSealer([parseRecipient(recipient)]);
    const plain = randomBytes(2 * CHUNK + 1000);
    const body = [sealer.header, sealer.push(plain.subarray(0, CHUNK + 10))];
    const early = decrypt(Buffer.concat([...body, sealer.sealTail()]));
    expect(early.out.equals(plain.subarray(0, CHUNK + 10))).toBe(true);
    body.push(sealer.push(plain.subarray(CHUNK + 10)));
    body.push(sealer.finish());
    expect(decrypt(Buffer.concat(body)).out.equals(plain)).toBe(true);
  });
});
