/**
 * The architecture as rules (.dependency-cruiser.cjs, docs/design.md §15): no import cycles, no program importing
 * another, shared code importing no program, camera components talking only through the bus, `mqtt` only in the
 * MQTT transport, no topic string outside src/protocol, and no source file over 400 lines. A fixture tree that
 * breaks each rule once shows the rules fire.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { topicLiterals } from '../harness/topic-literals.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const FIXTURE = path.join(REPO, 'test/fixtures/architecture');
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
    const found = await violations(FIXTURE);
    const fired = new Set(found.map((v) => v.slice(0, v.indexOf(':'))));
    expect([...fired].sort()).toEqual(
      [
        'age-is-self-contained',
        'camera-components-talk-through-the-bus',
        'camera-media-is-a-lower-layer',
        'evidence-layout-is-names',
        'mqtt-only-in-its-transport',
        'no-cycles',
        'pg-only-in-its-driver',
        'programs-are-separate',
        'shared-imports-no-program',
        'store-needs-only-lib',
      ].sort(),
    );
  }, 60_000);

  it('no topic string outside src/protocol: topics are built and parsed by src/protocol/topics.ts', () => {
    expect(topicLiterals(path.join(REPO, 'src'), [path.join(REPO, 'src/protocol')])).toEqual([]);
    // The protocol's own builders are found by the same check, so it would see a copy of them anywhere else.
    expect(topicLiterals(path.join(REPO, 'src/protocol')).length).toBeGreaterThan(5);
  });

  it('the topic check fires on a tree that writes topics by hand', () => {
    expect(topicLiterals(path.join(FIXTURE, 'src'))).toEqual([
      `camera/sync/own-client.ts:5: \`bodycam/cam/\${device}/up/hello\``,
      'dock/topics.ts:1: TOPIC_ROOT',
      "dock/topics.ts:4: 'cam/+/up/#'",
      'dock/topics.ts:5: TOPIC_ROOT',
    ]);
  });

  it(`no source file is over ${MAX_LINES} lines`, () => {
    const files = sourceFiles(path.join(REPO, 'src'));
    expect(files.length).toBeGreaterThan(50);
    const long = files
      .map((f) => ({ file: path.relative(REPO, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
