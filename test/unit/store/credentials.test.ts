import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCredentials, parseCredentials } from '../../../src/store/credentials.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-creds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseCredentials', () => {
  it.each([
    {
      why: 'the default profile',
      text: '[default]\naws_access_key_id = AK1\naws_secret_access_key = s3cr3t/with=equals\n',
      profile: 'default',
      ok: { accessKeyId: 'AK1', secretAccessKey: 's3cr3t/with=equals' },
    },
    {
      why: 'comments, blank lines, other profiles, upper-case names, CRLF',
      text: '# dock\r\n[other]\naws_access_key_id=X\n\n; keys\r\n[default]\r\nAWS_ACCESS_KEY_ID=AK2\r\naws_secret_access_key= sk \r\n',
      profile: 'default',
      ok: { accessKeyId: 'AK2', secretAccessKey: 'sk' },
    },
    {
      why: 'a named profile (also as [profile name]) with a session token',
      text: '[default]\naws_access_key_id=A\naws_secret_access_key=B\n[profile dock]\naws_access_key_id=C\naws_secret_access_key=D\naws_session_token=T\n',
      profile: 'dock',
      ok: { accessKeyId: 'C', secretAccessKey: 'D', sessionToken: 'T' },
    },
  ])('reads $why', ({ text, profile, ok }) => {
    expect(parseCredentials(text, profile)).toEqual({ ok });
  });

  it.each([
    ['', 'default', ['0: no [default] profile']],
    ['[default]\naws_access_key_id=A\n', 'default', ['0: [default] has no aws_secret_access_key']],
    [
      'aws_access_key_id=A\n[default]\naws_secret_access_key=B\n',
      'default',
      ['1: a setting before any [profile] line', '0: [default] has no aws_access_key_id'],
    ],
    ['[default]\naws_access_key_id=\naws_secret_access_key=B\n', 'default', ['2: aws_access_key_id is empty']],
    [
      '[default]\naws_access_key_id A\naws_secret_access_key=B\n',
      'default',
      ['2: expected "name = value" or "[profile]"', '0: [default] has no aws_access_key_id'],
    ],
    [
      '[default]\naws_access_key_id=A\naws_access_key_id=C\naws_secret_access_key=B\n',
      'default',
      ['3: aws_access_key_id is set twice'],
    ],
    ['[default]\naws_access_key_id=A\naws_secret_access_key=B\n', 'dock', ['0: no [dock] profile']],
  ])('refuses %j', (text, profile, problems) => {
    const r = parseCredentials(text, profile);
    expect('problems' in r ? r.problems.map((p) => `${p.line}: ${p.message}`) : r).toEqual(problems);
  });

  it('never puts a secret into a message', async () => {
    const file = path.join(dir, 'bad');
    writeFileSync(file, '[default]\naws_access_key_id SECRETVALUE\n', { mode: 0o600 });
    await expect(loadCredentials(file)).rejects.toSatisfy((e: Error) => !e.message.includes('SECRETVALUE'));
  });
});

describe('loadCredentials', () => {
  it('reads a 0600 or 0640 file', async () => {
    const file = path.join(dir, 'ok');
    writeFileSync(file, '[default]\naws_access_key_id=A\naws_secret_access_key=B\n');
    for (const mode of [0o600, 0o640]) {
      chmodSync(file, mode);
      await expect(loadCredentials(file)).resolves.toEqual({ accessKeyId: 'A', secretAccessKey: 'B' });
    }
  });

  it('refuses a file every user can read, naming the fix', async () => {
    const file = path.join(dir, 'open');
    writeFileSync(file, '[default]\naws_access_key_id=A\naws_secret_access_key=B\n');
    chmodSync(file, 0o644);
    await expect(loadCredentials(file)).rejects.toMatchObject({
      code: 'STORE_CREDENTIALS',
      message: expect.stringContaining(`chmod o-rwx ${file}`),
    });
  });

  it('names a missing file and what to write', async () => {
    const file = path.join(dir, 'missing');
    await expect(loadCredentials(file)).rejects.toMatchObject({
      code: 'STORE_CREDENTIALS',
      message: expect.stringMatching(/ENOENT.*aws_access_key_id/),
    });
  });

  it('lists every problem of a malformed file with its line', async () => {
    const file = path.join(dir, 'malformed');
    writeFileSync(file, '[default]\nnonsense\naws_access_key_id=\n', { mode: 0o600 });
    await expect(loadCredentials(file)).rejects.toMatchObject({
      code: 'STORE_CREDENTIALS',
      message: expect.stringContaining(`${file}:2: expected "name = value"`),
    });
  });
});
