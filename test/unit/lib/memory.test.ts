import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../../src/lib/memory.ts';

describe('the daemon memory settings', () => {
  it('scripts/bodycam launches with exactly the daemon Node flags', () => {
    const script = readFileSync(path.resolve(import.meta.dirname, '../../../scripts/bodycam'), 'utf8');
    const exec = script.split('\n').find((l) => l.startsWith('exec '));
    expect(exec).toBeDefined();
    expect(exec).toContain(` ${DAEMON_NODE_FLAGS.join(' ')} "$entry"`);
    expect(DAEMON_NODE_FLAGS.length).toBeGreaterThan(0);
  });
});
