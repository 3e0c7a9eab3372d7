/** The programs' last line of defence: an unhandled rejection or exception is logged as one fatal line and exits 70. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EXIT_INTERNAL_ERROR, fatalLine } from '../../../src/lib/fatal.ts';

const MODULE = new URL('../../../src/lib/fatal.ts', import.meta.url).href;

/** Runs `body` in a fresh Node process that installed the handlers first; returns its exit code and stderr. */
function crash(body: string): { code: number | null; stderr: string } {
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { exitOnFatal } from ${JSON.stringify(MODULE)}; exitOnFatal(); ${body}`],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  return { code: r.status, stderr: r.stderr };
}

describe('exitOnFatal', () => {
  it.each([
    [
      'an unhandled rejection',
      "Promise.reject(new Error('boom in a promise'));",
      'unhandledRejection',
      'boom in a promise',
    ],
    [
      'an uncaught exception',
      "setTimeout(() => { throw new Error('boom in a timer'); }, 1);",
      'uncaughtException',
      'boom in a timer',
    ],
  ])('%s: one fatal JSON line with the stack, exit 70', (_what, body, origin, message) => {
    const r = crash(body);
    expect(r.code).toBe(EXIT_INTERNAL_ERROR);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '') as {
      level: number;
      origin: string;
      msg: string;
      err: { message: string; stack: string };
    };
    expect(line).toMatchObject({ level: 60, origin, msg: `fatal: ${origin}`, err: { message } });
    expect(line.err.stack).toContain(`Error: ${message}`);
  });

  it('describes a rejection with a value that is not an Error', () => {
    expect(JSON.parse(fatalLine('unhandledRejection', 42, 1000))).toEqual({
      level: 60,
      time: 1000,
      service: 'bodycam',
      origin: 'unhandledRejection',
      err: { type: 'number', message: '42', stack: '' },
      msg: 'fatal: unhandledRejection',
    });
  });
});
