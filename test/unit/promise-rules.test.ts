/**
 * No floating or misused promise in src, by TypeScript's type checker (promise-rules.ts): biome's promise rules run in
 * `npm run lint`, and this catches what their partial type inference misses. A planted file shows each case caught
 * and each handled form left alone.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PromiseProblem, programOf, promiseProblems } from './promise-rules.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(REPO, 'src');
const PLANTED = path.join(SRC, '__planted_promises__.ts');

const planted = `
import { EventEmitter } from 'node:events';
async function work(): Promise<number> {
  return 1;
}
const emitter = new EventEmitter();
export async function cases(list: number[]): Promise<unknown> {
  work(); // FLOATING
  work().then((n) => n + 1); // FLOATING
  work().finally(() => undefined); // FLOATING
  Promise.all(list.map(async (n) => n)); // FLOATING
  emitter.on('x', async () => { // MISUSED
    await work();
  });
  setTimeout(async () => { // MISUSED
    await work();
  }, 1);
  list.forEach(async (n) => { // MISUSED
    await work();
    return n;
  });
  await work();
  void work();
  work().catch(() => undefined);
  work().then(() => undefined, () => undefined);
  let kept: Promise<number> | null = null;
  kept = work();
  kept ??= work();
  await Promise.all(list.map(async (n) => n));
  emitter.on('y', () => void work());
  await new Promise<void>((resolve) => setTimeout(resolve, 1));
  return work();
}
`;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('promise rules (type checker)', () => {
  let program: ReturnType<typeof programOf>;
  let problems: PromiseProblem[] = [];
  // One program for src and the planted file: building it (type-checking src) takes a few seconds.
  beforeAll(() => {
    program = programOf(REPO, sources(SRC), new Map([[PLANTED, planted]]));
    problems = promiseProblems(program, (f) => f.startsWith(`${SRC}/`));
  }, 120_000);

  it('src has no floating or misused promise', () => {
    const inSrc = problems.filter((p) => p.file !== PLANTED);
    expect(program.getSourceFiles().filter((f) => f.fileName.startsWith(`${SRC}/`)).length).toBeGreaterThan(50);
    expect(inSrc.map((p) => `${path.relative(REPO, p.file)}:${p.line} ${p.kind}: ${p.text}`)).toEqual([]);
  });

  it('catches every planted case on its line, and nothing handled', () => {
    const lines = planted.split('\n');
    const expected = lines.flatMap((l, i) => {
      const m = / \/\/ (FLOATING|MISUSED)$/.exec(l);
      return m?.[1] === undefined ? [] : [`${i + 1} ${m[1].toLowerCase()}`];
    });
    expect(expected).toHaveLength(7);
    const got = problems.filter((p) => p.file === PLANTED).map((p) => `${p.line} ${p.kind}`);
    expect(got).toEqual(expected);
  });
});
