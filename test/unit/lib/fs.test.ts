/** Appending lines durably (a torn last line left by a power cut is cut off before new lines are appended), and writevAll. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendLinesDurably, writevAll } from '../../../src/lib/fs.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('appendLinesDurably', () => {
  it.each<[string, string | null, string]>([
    ['creates the file', null, 'new\n'],
    ['appends after complete lines', 'a\nb\n', 'a\nb\nnew\n'],
    ['cuts a torn last line first', 'a\nb\n{"torn', 'a\nb\nnew\n'],
    ['cuts a file that is one torn line', '{"torn', 'new\n'],
    ['finds the last newline far back', `a\n${'x'.repeat(200_000)}`, 'a\nnew\n'],
  ])('%s', async (_what, before, after) => {
    const file = path.join(dir, `${Math.random().toString(16).slice(2)}.jsonl`);
    if (before !== null) writeFileSync(file, before);
    await appendLinesDurably(file, 'new\n');
    expect(readFileSync(file, 'utf8')).toBe(after);
  });
});

describe('writevAll', () => {
  it('resumes after short writes, mid-buffer and across buffers, and writes every byte once, in order', async () => {
    const written: Buffer[] = [];
    const calls: number[] = [];
    // A file that takes at most 5 bytes per call, as a regular file may near a full disk.
    const handle = {
      writev: async (buffers: Buffer[]) => {
        calls.push(buffers.length);
        const all = Buffer.concat(buffers).subarray(0, 5);
        written.push(all);
        return { bytesWritten: all.length, buffers };
      },
    } as unknown as FileHandle;
    const parts = [
      Buffer.from('abc'),
      Buffer.alloc(0),
      Buffer.from('defghij'),
      Buffer.from('k'),
      Buffer.from('lmnopq'),
    ];
    await writevAll(handle, parts);
    expect(Buffer.concat(written).toString()).toBe('abcdefghijklmnopq');
    expect(calls).toEqual([4, 3, 2, 1]);
  });

  it('writes nothing for nothing', async () => {
    let called = false;
    const handle = {
      writev: async () => {
        called = true;
        return { bytesWritten: 0, buffers: [] };
      },
    } as unknown as FileHandle;
    await writevAll(handle, [Buffer.alloc(0)]);
    expect(called).toBe(false);
  });
});
