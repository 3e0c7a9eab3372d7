/**
 * The unit tier never waits on the wall clock (test/README.md): time is the fake clock (`src/hal/clock/fake.ts`),
 * advanced, never slept, and it is the only fake time (no vitest fake timers). A test that needs real time belongs in
 * test/integration and says so. The rules run over every unit test, and each is shown firing on a bad line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const UNIT = path.resolve(import.meta.dirname);

const RULES: ReadonlyArray<{ name: string; pattern: RegExp; fix: string }> = [
  {
    name: 'wall-clock wait',
    pattern: /(?<![.\w])(setTimeout|setInterval)\s*\(|timers\/promises/,
    fix: 'set timers on the fake clock and advance it',
  },
  {
    name: 'second fake time',
    pattern: /\bvi\.(useFakeTimers|advanceTimers\w*|runAllTimers\w*|runOnlyPendingTimers\w*|setSystemTime)\b/,
    fix: 'hand the component the FakeClock instead of replacing the globals',
  },
  { name: 'real clock', pattern: /\brealClock\b/, fix: 'hand the component the FakeClock' },
];

/** Code lines breaking a rule, as `file:line: rule (fix)`; comment lines are not code. */
function breaches(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    if (/^\s*(\/\/|\*|\/\*)/.test(line)) return [];
    return RULES.filter((r) => r.pattern.test(line)).map((r) => `${file}:${i + 1}: ${r.name} (${r.fix})`);
  });
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Files holding planted source as text (never run), each with why. */
const PLANTED = new Set([
  import.meta.filename, // this file's own bad lines
  path.join(UNIT, 'promise-rules.test.ts'), // a planted source file for the promise rules, type-checked only
]);

describe('the unit tier', () => {
  it('never waits on the wall clock, and has one fake time', () => {
    const found = files(UNIT)
      .filter((f) => !PLANTED.has(f))
      .flatMap((f) => breaches(path.relative(UNIT, f), readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  it.each([
    ['await new Promise((r) => setTimeout(r, 30));', 'wall-clock wait'],
    ["import { setTimeout as sleep } from 'node:timers/promises';", 'wall-clock wait'],
    ['const t = setInterval(poll, 20);', 'wall-clock wait'],
    ['vi.useFakeTimers();', 'second fake time'],
    ['await vi.advanceTimersByTimeAsync(5000);', 'second fake time'],
    ['const capture = new Capture({ clock: realClock });', 'real clock'],
  ])('fires on `%s` (%s)', (line, rule) => {
    expect(breaches('x.test.ts', line)).toEqual([`x.test.ts:1: ${rule} (${RULES.find((r) => r.name === rule)?.fix})`]);
  });

  it.each([
    'clock.setTimeout(() => call.exit(0), 1500);',
    'await clock.advance(30_000);',
    '// a comment may say setTimeout(r, 30)',
    ' * or vi.useFakeTimers() in a doc comment',
  ])('lets `%s` pass', (line) => {
    expect(breaches('x.test.ts', line)).toEqual([]);
  });
});
