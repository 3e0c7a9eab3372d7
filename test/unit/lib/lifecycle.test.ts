/** The composition roots' part order: start in order, stop in reverse, every part stopped even when one fails. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../../src/lib/lifecycle.ts';
import { createLogger } from '../../../src/lib/logger.ts';

/** A logger whose JSON lines land in `lines`. */
function recordingLogger(lines: string[]) {
  const sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      lines.push(chunk.toString().trim());
      done();
    },
  });
  return createLogger('error', sink);
}

describe('Lifecycle', () => {
  it('starts parts in order and stops them in reverse, then holds nothing more to stop', async () => {
    const seen: string[] = [];
    const parts = new Lifecycle(recordingLogger([]));
    const component = (name: string) => ({
      start: async () => void seen.push(`start ${name}`),
      stop: async () => void seen.push(`stop ${name}`),
    });
    await parts.start('index', component('index'));
    parts.add('store', () => void seen.push('close store'));
    await parts.start('capture', component('capture'));
    await parts.stop();
    expect(seen).toEqual(['start index', 'start capture', 'stop capture', 'close store', 'stop index']);
    await parts.stop();
    expect(seen).toHaveLength(5);
  });

  it('a part that fails to stop is logged by name, and the parts before it still stop', async () => {
    const lines: string[] = [];
    const stopped: string[] = [];
    const parts = new Lifecycle(recordingLogger(lines));
    parts.add('first', () => void stopped.push('first'));
    parts.add('broken', async () => {
      throw new Error('will not stop');
    });
    parts.add('last', () => void stopped.push('last'));
    await parts.stop();
    expect(stopped).toEqual(['last', 'first']);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ part: 'broken', msg: 'stopping a part failed' });
  });

  it('a part that fails to start is not stopped; those started before it are', async () => {
    const stopped: string[] = [];
    const parts = new Lifecycle(recordingLogger([]));
    parts.add('index', () => void stopped.push('index'));
    const failing = {
      start: async () => {
        throw new Error('ffmpeg missing');
      },
      stop: async () => void stopped.push('capture'),
    };
    await expect(parts.start('capture', failing)).rejects.toThrow('ffmpeg missing');
    await parts.stop();
    expect(stopped).toEqual(['index']);
  });
});
