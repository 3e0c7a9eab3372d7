/** Appending lines durably: a torn last line left by a power cut is cut off before new lines are appended. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendLinesDurably } from '../../../src/lib/fs.ts';

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
