/**
 * External tools the tests use, found on PATH (never at a hard-coded path). A test that needs a missing tool is
 * skipped with a title that names the tool; tests that do not need it still run.
 */
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';

const found = new Map<string, string | null>();

/** Absolute path of `command` on PATH, or null. */
export function which(command: string): string | null {
  const cached = found.get(command);
  if (cached !== undefined) return cached;
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'which', command], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() || null : null;
  found.set(command, p);
  return p;
}

/** `it` when every tool is on PATH; otherwise a skip whose title says which tool is missing. */
export function itWith(...tools: string[]): typeof it {
  const missing = tools.filter((t) => which(t) === null);
  if (missing.length === 0) return it;
  const skip = ((name: string, fn?: unknown, timeout?: number) =>
    it.skip(`${name} (skipped: ${missing.join(', ')} not on PATH)`, fn as () => void, timeout)) as unknown as typeof it;
  return skip;
}
