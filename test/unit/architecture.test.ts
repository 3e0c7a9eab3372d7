/**
 * The architecture as rules (.dependency-cruiser.cjs, docs/design.md §15): no import cycles, no program importing
 * another, shared code importing no program, camera components talking only through the bus, and no source file
 * over 400 lines. A fixture tree that breaks each rule once shows the rules fire.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(import.meta.dirname, '../..');
const MAX_LINES = 400;
const rules = createRequire(import.meta.url)(path.join(REPO, '.dependency-cruiser.cjs')) as {
  forbidden: IForbiddenRuleType[];
};

async function violations(baseDir: string): Promise<string[]> {
  const result = await cruise(['src'], {
    baseDir,
    ruleSet: { forbidden: rules.forbidden },
    validate: true,
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
  });
  const output = result.output as ICruiseResult;
  return output.summary.violations.map(
    (v) => `${v.rule.name}: ${v.from} → ${v.cycle?.map((c) => c.name).join(' → ') ?? v.to}`,
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.ts$/.test(e.name) ? [p] : [];
  });
}

describe('architecture', () => {
  it('src keeps every dependency rule', async () => {
    const found = await violations(REPO);
    const explained = found.map((v) => {
      const rule = rules.forbidden.find((r) => v.startsWith(`${r.name}:`));
      return `${v}\n    why: ${rule?.comment ?? ''}`;
    });
    expect(explained).toEqual([]);
  }, 60_000);

  it('every rule fires on a tree that breaks it', async () => {
    const found = await violations(path.join(REPO, 'test/fixtures/architecture'));
    const fired = new Set(found.map((v) => v.slice(0, v.indexOf(':'))));
    expect([...fired].sort()).toEqual(
      [
        'age-is-self-contained',
        'camera-components-talk-through-the-bus',
        'camera-media-is-a-lower-layer',
        'evidence-layout-is-names',
        'no-cycles',
        'programs-are-separate',
        'shared-imports-no-program',
        'store-needs-only-lib',
      ].sort(),
    );
  }, 60_000);

  it(`no source file is over ${MAX_LINES} lines`, () => {
    const files = sourceFiles(path.join(REPO, 'src'));
    expect(files.length).toBeGreaterThan(50);
    const long = files
      .map((f) => ({ file: path.relative(REPO, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
