/**
 * Bounded reading of evidence text: JSON depth is measured before `JSON.parse` sees it, and signed-line files are
 * streamed line by line with a line-length bound, hashing every byte.
 */
import { createHash } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonDepth, MAX_JSON_DEPTH, parseBoundedJson } from '../../../src/evidence/json.ts';
import { type Line, MAX_LINE_BYTES, readLines } from '../../../src/evidence/lines.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';
import { removeTempDirs, tempDir } from './builder.ts';

afterAll(removeTempDirs);

describe('jsonDepth and parseBoundedJson', () => {
  it.each<[string, number]>([
    ['1', 0],
    ['[]', 1],
    ['{"a":[1,{"b":2}]}', 3],
    ['"[[[[["', 0],
    ['["\\"[[[", [1]]', 2],
    ['{"k":"\\\\"}', 1],
  ])('%s nests %i deep', (text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });

  it('stops counting past the limit, and refuses what nests deeper or is longer than allowed', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(jsonDepth(deep)).toBe(MAX_JSON_DEPTH + 1);
    for (const [text, max] of [
      [deep, 1e6],
      ['[1,2,3]', 3],
      ['{', 10],
    ] as const) {
      const e = (() => {
        try {
          return parseBoundedJson(text, 'the record', max);
        } catch (x) {
          return x;
        }
      })();
      expect(isBodycamError(e, 'EVIDENCE_FORMAT')).toBe(true);
      expect((e as Error).message).toMatch(/^the record is not valid JSON/);
    }
    expect(parseBoundedJson('{"a":[1]}', 'x', 100)).toEqual({ a: [1] });
  });
});

describe('readLines', () => {
  async function read(content: Buffer) {
    const file = path.join(await tempDir(), 'lines.jsonl');
    await writeFile(file, content);
    const fh = await open(file, 'r');
    const lines: Line[] = [];
    try {
      const result = await readLines(fh, (l) => lines.push(l));
      return { lines, result };
    } finally {
      await fh.close();
    }
  }

  it('gives each complete line, hashes every byte and reports a torn tail', async () => {
    const content = Buffer.from('one\ntwo\n\nthree');
    const { lines, result } = await read(content);
    expect(lines).toEqual([
      { line: 1, text: 'one' },
      { line: 2, text: 'two' },
      { line: 3, text: '' },
    ]);
    expect(result).toEqual({
      bytes: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
      tornTail: { line: 4, bytes: 5 },
    });
  });

  it('never buffers a line longer than the bound, across reads', async () => {
    const long = 'x'.repeat(MAX_LINE_BYTES * 3 + 17);
    const { lines, result } = await read(Buffer.from(`a\n${long}\nb\n${long}`));
    expect(lines).toEqual([
      { line: 1, text: 'a' },
      { line: 2, tooLong: long.length },
      { line: 3, text: 'b' },
    ]);
    expect(result.tornTail).toEqual({ line: 4, bytes: long.length });
  });
});
