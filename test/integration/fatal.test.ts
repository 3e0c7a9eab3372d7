/**
 * The programs' last line of defence, in real processes (a fatal exit is the end of a process): an unhandled
 * rejection or an uncaught exception is logged as one fatal JSON line and the process exits 70, so systemd restarts
 * the service. Checked on the handlers themselves and on every program the package ships (each `bin` entry, as
 * compiled: `bodycam run` and `bodycam dock run` are its long-running commands), with a fault planted once the
 * program has installed its handlers.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_INTERNAL_ERROR } from '../../src/lib/fatal.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const MODULE = new URL('../../src/lib/fatal.ts', import.meta.url).href;

interface Crash {
  code: number | null;
  stderr: string;
}

/** Runs Node with `args`; its stderr and exit code. */
function node(args: string[]): Crash {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000, cwd: REPO });
  return { code: r.status, stderr: r.stderr };
}

/** The one fatal line on stderr, parsed (fails the test when stderr holds anything else). */
function fatalLine(r: Crash): { level: number; origin: string; msg: string; err: { message: string; stack: string } } {
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? '');
}

const FAULTS = [
  [
    'an unhandled rejection',
    "Promise.reject(new Error('boom in a promise'))",
    'unhandledRejection',
    'boom in a promise',
  ],
  [
    'an uncaught exception',
    "setTimeout(() => { throw new Error('boom in a timer'); }, 1)",
    'uncaughtException',
    'boom in a timer',
  ],
] as const;

describe('exitOnFatal', () => {
  it.each(FAULTS)('%s: one fatal JSON line with the stack, exit 70', (_what, fault, origin, message) => {
    const r = node([
      '--input-type=module',
      '-e',
      `import { exitOnFatal } from ${JSON.stringify(MODULE)}; exitOnFatal(); ${fault};`,
    ]);
    expect(r.code).toBe(EXIT_INTERNAL_ERROR);
    const line = fatalLine(r);
    expect(line).toMatchObject({ level: 60, origin, msg: `fatal: ${origin}`, err: { message } });
    expect(line.err.stack).toContain(`Error: ${message}`);
  });
});

const SIGNALS = new URL('../../src/lib/signals.ts', import.meta.url).href;

describe('exitOnceStopped', () => {
  it('ends a program that something it does not own keeps alive, naming what was open', () => {
    // A ref'd interval stands for a native library's callback that outlives its close().
    const r = node([
      '--input-type=module',
      '-e',
      `import { exitOnceStopped } from ${JSON.stringify(SIGNALS)}; setInterval(() => undefined, 1000); ` +
        'process.exitCode = 3; exitOnceStopped({ warn: (o, m) => console.error(JSON.stringify({ ...o, msg: m })) }, 300);',
    ]);
    expect(r.code).toBe(3);
    const line = JSON.parse(r.stderr.trim()) as { open: string[]; lingerMs: number; msg: string };
    expect(line).toMatchObject({ lingerMs: 300, msg: 'still running 300 ms after a clean stop; exiting' });
    expect(line.open).toContain('Timeout');
  });

  it('stays silent when the program ends by itself', () => {
    const r = node([
      '--input-type=module',
      '-e',
      `import { exitOnceStopped } from ${JSON.stringify(SIGNALS)}; ` +
        "exitOnceStopped({ warn: () => console.error('lingered') }, 5000); setTimeout(() => undefined, 50);",
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});

/** The programs the package ships: package.json `bin`, compiled (dist/ is built by the global setup). */
const bins = Object.entries(
  JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).bin as Record<string, string>,
);

/**
 * A fault planted from outside the program (`--import`, before it loads): it fires once the program has installed
 * handlers for both events, or after 5 s if it never does (Node's default then exits 1 with the bare error).
 */
function planted(fault: string): string {
  const wait =
    "const t0 = Date.now(); const poll = setInterval(() => { if ((process.listenerCount('unhandledRejection') > 0 && " +
    "process.listenerCount('uncaughtException') > 0) || Date.now() - t0 > 5000) { clearInterval(poll); " +
    `${fault}; } }, 5);`;
  return `data:text/javascript,${encodeURIComponent(wait)}`;
}

describe('every program the package ships', () => {
  it('ships each program under src/cli that runs as a command (a #! line) as a bin entry', () => {
    const commands = readdirSync(path.join(REPO, 'src/cli'))
      .filter((f) => f.endsWith('.ts') && readFileSync(path.join(REPO, 'src/cli', f), 'utf8').startsWith('#!'))
      .map((f) => `dist/cli/${f.replace(/\.ts$/, '.js')}`);
    expect(commands).toEqual(bins.map(([, file]) => file));
  });

  for (const [name, file] of bins) {
    it.each(FAULTS)(`${name}: %s is logged as one fatal line and exits 70`, (_what, fault, origin, message) => {
      // `--version` does its work at once and then waits for the planted fault, as a long-running command would.
      const r = node(['--import', planted(fault), path.join(REPO, file), '--version']);
      expect(r.code).toBe(EXIT_INTERNAL_ERROR);
      expect(fatalLine(r)).toMatchObject({ level: 60, origin, err: { message } });
    });
  }
});
