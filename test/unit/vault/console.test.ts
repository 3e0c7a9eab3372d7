/**
 * The player's pure parts: the identity file read in the browser, the MSE type read from a segment's init segment,
 * the page (no inline script or style, data through attributes, escaped) and the asset lookup (known names only).
 */
import { describe, expect, it } from 'vitest';
import { consoleAsset } from '../../../src/vault/console/assets.ts';
import { readIdentityFile } from '../../../src/vault/console/identity-file.ts';
import { PLAYER_CSP, playerPage } from '../../../src/vault/console/player-page.ts';
import { segmentMimeType } from '../../../src/vault/console/segment-type.ts';

const KEY = `AGE-SECRET-KEY-1${'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L'.repeat(2).slice(0, 58)}`;

describe('readIdentityFile', () => {
  it.each([
    ['one key', `${KEY}\n`, { ok: true, identities: [KEY] }],
    ['comments and blank lines', `# created: now\n# public key: age1…\n\n${KEY}\r\n`, { ok: true, identities: [KEY] }],
    ['two keys', `${KEY}\n${KEY}\n`, { ok: true, identities: [KEY, KEY] }],
    ['empty', '', { ok: false, error: 'the identity file holds no AGE-SECRET-KEY-1… line' }],
    ['only comments', '# nothing\n', { ok: false, error: 'the identity file holds no AGE-SECRET-KEY-1… line' }],
    [
      'a recipient, not a key',
      'age1qqqq\n',
      { ok: false, error: 'line 1 of the identity file is not an age identity' },
    ],
    [
      'a key one character short',
      `# c\n${KEY.slice(0, -1)}\n`,
      { ok: false, error: 'line 2 of the identity file is a damaged AGE-SECRET-KEY-1… identity' },
    ],
    ['a lower-case key', KEY.toLowerCase(), { ok: false, error: 'line 1 of the identity file is not an age identity' }],
    [
      'a post-quantum key',
      'AGE-SECRET-KEY-PQ-1ABC',
      {
        ok: false,
        error: 'line 1 of the identity file is a post-quantum identity, which this footage is not sealed to',
      },
    ],
  ])('%s', (_name, text, want) => {
    expect(readIdentityFile(text)).toEqual(want);
  });

  it('never quotes the line it refuses', () => {
    const r = readIdentityFile(`${KEY}x`);
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(KEY);
  });
});

/** An MP4 box: 32-bit size, type, payload. */
const box = (type: string, ...payload: Uint8Array[]): Uint8Array => {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
};
const avcC = (profile: number, compat: number, level: number) => box('avcC', Uint8Array.of(1, profile, compat, level));

describe('segmentMimeType', () => {
  it.each([
    [
      'H.264 high 4.0 with AAC',
      [box('ftyp', Buffer.from('isom')), box('moov', box('trak', avcC(0x64, 0x00, 0x28)), box('trak', box('mp4a')))],
      'video/mp4; codecs="avc1.640028,mp4a.40.2"',
    ],
    [
      'H.264 constrained baseline 1.3, no audio',
      [box('ftyp'), box('moov', box('trak', avcC(0x42, 0xc0, 0x0d)))],
      'video/mp4; codecs="avc1.42c00d"',
    ],
    ['no moov', [box('ftyp'), box('moof', avcC(0x42, 0, 0x1e))], null],
    ['moov without avcC', [box('ftyp'), box('moov', box('trak', box('hvcC')))], null],
    ['a codec box after moov does not count', [box('moov', box('trak')), box('mdat', avcC(0x42, 0, 0x1e))], null],
    ['garbage', [Uint8Array.of(0, 0, 0, 1, 0x41, 0x41)], null],
    ['a zero-size box', [Uint8Array.of(0, 0, 0, 0, 0x6d, 0x6f, 0x6f, 0x76)], null],
  ])('%s', (_name, boxes, want) => {
    expect(segmentMimeType(Buffer.concat(boxes))).toBe(want);
  });
});

describe('playerPage', () => {
  const html = playerPage({ title: 'Incident <b>"x"</b>', segmentsUrl: '/incidents/a&b/segments', csrf: 't"1' });

  it('has no inline script or style and loads only same-origin assets', () => {
    expect(html).not.toMatch(/<script(?![^>]*\bsrc="\/assets\/player\.js")[^>]*>/);
    expect(html).toContain('<script type="module" src="/assets/player.js"></script>');
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(PLAYER_CSP).toContain("script-src 'self'");
    expect(PLAYER_CSP).toContain("media-src 'self' blob:");
    expect(PLAYER_CSP).not.toMatch(/unsafe/);
  });

  it('carries its data in escaped attributes and holds the player controls', () => {
    expect(html).toContain('data-segments-url="/incidents/a&amp;b/segments"');
    expect(html).toContain('data-csrf="t&quot;1"');
    expect(html).toContain('Incident &lt;b&gt;&quot;x&quot;&lt;/b&gt;');
    expect(html).not.toContain('<b>');
    for (const part of ['<video', '<input type="file"', 'role="status"', 'role="alert"']) expect(html).toContain(part);
  });
});

describe('consoleAsset', () => {
  it('serves the built player and its style sheet', () => {
    const js = consoleAsset('/assets/player.js');
    expect(js?.contentType).toBe('text/javascript; charset=utf-8');
    expect(js?.body.toString()).toContain('AGE-SECRET-KEY-1');
    expect(consoleAsset('/assets/player.css')?.contentType).toBe('text/css; charset=utf-8');
  });

  it.each([
    '/assets/',
    '/assets/../../package.json',
    '/assets/%2e%2e/player.js',
    '/assets/player.js/',
    '/assets/tsconfig.json',
    '/player.js',
    '/assets/constructor',
    '/assets/__proto__',
  ])('%s is not an asset', (p) => {
    expect(consoleAsset(p)).toBeNull();
  });
});
