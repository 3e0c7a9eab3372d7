/**
 * The player in the custodian's browser (bundled to assets/player.js by scripts/build/console-assets.ts). The identity
 * file is read here (File.text) and handed only to the age decrypter: no request carries it. Each segment's
 * ciphertext is fetched from the same origin, decrypted whole (age authenticates every chunk, so a byte that was
 * altered fails before anything is shown) and only then appended to the SourceBuffer. Each segment is a
 * self-contained fMP4 (its own init segment, capture timestamps); 'sequence' mode lays them end to end from 0.
 * Any failure stops playback and names the segment; nothing unverified is ever appended.
 */
import { Decrypter } from 'age-encryption';
import { readIdentityFile } from '../identity-file.ts';
import { segmentMimeType } from '../segment-type.ts';

interface SegmentRef {
  seq: number;
  url: string;
  bytes: number;
}

class PlayerError extends Error {}

function element<T extends Element>(root: ParentNode, selector: string, kind: { new (): T }): T {
  const found = root.querySelector(selector);
  if (!(found instanceof kind)) throw new Error(`the player page lacks ${selector}`);
  return found;
}

const root = element(document, 'main[data-segments-url]', HTMLElement);
const video = element(root, 'video', HTMLVideoElement);
const input = element(root, 'input[type="file"]', HTMLInputElement);
const status = element(root, '[role="status"]', HTMLElement);
const alert = element(root, '[role="alert"]', HTMLElement);
const segmentsUrl = root.dataset['segmentsUrl'] ?? '';

function say(text: string): void {
  status.textContent = text;
}

function fail(text: string): void {
  video.pause();
  say('');
  alert.textContent = text;
  alert.hidden = false;
}

async function fetchBytes(what: string, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new PlayerError(`${what} could not be fetched (the server did not answer)`);
  }
  if (!res.ok) throw new PlayerError(`${what} could not be fetched (HTTP ${res.status})`);
  return res;
}

async function segmentList(): Promise<SegmentRef[]> {
  const res = await fetchBytes('the segment list', segmentsUrl);
  const body: unknown = await res.json().catch(() => null);
  const segments = typeof body === 'object' && body !== null ? (body as { segments?: unknown }).segments : undefined;
  const valid = (s: unknown): s is SegmentRef =>
    typeof s === 'object' &&
    s !== null &&
    Number.isInteger((s as SegmentRef).seq) &&
    typeof (s as SegmentRef).url === 'string' &&
    Number.isInteger((s as SegmentRef).bytes) &&
    new URL((s as SegmentRef).url, location.href).origin === location.origin;
  if (!Array.isArray(segments) || !segments.every(valid)) throw new PlayerError('the segment list is malformed');
  if (segments.length === 0) throw new PlayerError('this incident has no segment you may play');
  return segments;
}

async function openSegment(decrypter: Decrypter, s: SegmentRef): Promise<Uint8Array> {
  const name = `segment ${s.seq}`;
  const sealed = new Uint8Array(await (await fetchBytes(name, s.url)).arrayBuffer());
  if (sealed.length !== s.bytes) {
    throw new PlayerError(`${name} arrived incomplete (${sealed.length} of ${s.bytes} bytes) and is not played`);
  }
  try {
    return await decrypter.decrypt(sealed);
  } catch (e) {
    // age-encryption throws plain Errors; this is its wording for "no identity opens the header".
    if (e instanceof Error && e.message.includes('no identity matched')) {
      throw new PlayerError(`this identity does not open this footage (${name} is not sealed to it)`);
    }
    throw new PlayerError(`${name} failed to decrypt: it is damaged or was altered, and is not played`);
  }
}

function append(buffer: SourceBuffer, bytes: Uint8Array, seq: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      buffer.removeEventListener('updateend', done);
      buffer.removeEventListener('error', failed);
      resolve();
    };
    const failed = (): void => {
      buffer.removeEventListener('updateend', done);
      buffer.removeEventListener('error', failed);
      reject(new PlayerError(`segment ${seq} could not be played (the browser refused its media)`));
    };
    buffer.addEventListener('updateend', done);
    buffer.addEventListener('error', failed);
    buffer.appendBuffer(bytes as Uint8Array<ArrayBuffer>);
  });
}

async function openMedia(type: string): Promise<{ source: MediaSource; buffer: SourceBuffer }> {
  if (typeof MediaSource === 'undefined') throw new PlayerError('this browser has no Media Source Extensions');
  if (!MediaSource.isTypeSupported(type)) throw new PlayerError(`this browser cannot play ${type}`);
  const source = new MediaSource();
  const opened = new Promise<void>((resolve) => source.addEventListener('sourceopen', () => resolve(), { once: true }));
  video.src = URL.createObjectURL(source);
  await opened;
  const buffer = source.addSourceBuffer(type);
  buffer.mode = 'sequence';
  buffer.timestampOffset = 0;
  return { source, buffer };
}

async function play(identityText: string): Promise<void> {
  const read = readIdentityFile(identityText);
  if (!read.ok) throw new PlayerError(read.error);
  const decrypter = new Decrypter();
  for (const identity of read.identities) decrypter.addIdentity(identity);
  say('Fetching the segment list…');
  const segments = await segmentList();
  let media: { source: MediaSource; buffer: SourceBuffer } | null = null;
  try {
    for (const [i, s] of segments.entries()) {
      say(`Decrypting segment ${s.seq} (${i + 1} of ${segments.length})…`);
      const plain = await openSegment(decrypter, s);
      if (media === null) {
        const type = segmentMimeType(plain);
        if (type === null) throw new PlayerError(`segment ${s.seq} is not a fragmented H.264 MP4`);
        media = await openMedia(type);
      }
      await append(media.buffer, plain, s.seq);
      if (i === 0) void video.play().catch(() => say('Press play to start.'));
    }
    media?.source.endOfStream();
    say(`All ${segments.length} segments decrypted in this browser.`);
  } catch (e) {
    // What was verified stays buffered; nothing after the failure is fetched or appended.
    if (media !== null && media.source.readyState === 'open' && !media.buffer.updating) media.source.endOfStream();
    throw e;
  }
}

input.addEventListener('change', () => {
  const file = input.files?.[0];
  if (file === undefined) return;
  alert.hidden = true;
  alert.textContent = '';
  input.disabled = true;
  file
    .text()
    .then(play)
    .catch((e: unknown) => {
      fail(e instanceof PlayerError ? e.message : `playback failed: ${String(e)}`);
      input.disabled = false;
    });
});
