import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectGarbage, DAEMON_ENV, DAEMON_NODE_FLAGS, daemonEnvLines, releaseNow } from '../../../src/lib/memory.ts';
import { CHUNK_BYTES } from '../../../src/protocol/limits.ts';

describe('the daemon memory settings', () => {
  it('scripts/bodycam launches with exactly the daemon Node flags', () => {
    const script = readFileSync(path.resolve(import.meta.dirname, '../../../scripts/bodycam'), 'utf8');
    const exec = script.split('\n').find((l) => l.startsWith('exec '));
    expect(exec).toBeDefined();
    expect(exec).toContain(` ${DAEMON_NODE_FLAGS.join(' ')} "$entry"`);
    expect(DAEMON_NODE_FLAGS.length).toBeGreaterThan(0);
  });

  it('every launcher exports the daemon environment before it starts Node, keeping a value already set', () => {
    const root = path.resolve(import.meta.dirname, '../../..');
    // The shell's own default syntax, so that a value set before (a technician's override) wins.
    expect(daemonEnvLines()).toEqual([
      `export MALLOC_ARENA_MAX="\${MALLOC_ARENA_MAX:-2}"`,
      `export MALLOC_MMAP_THRESHOLD_="\${MALLOC_MMAP_THRESHOLD_:-266240}"`,
    ]);
    for (const launcher of ['scripts/bodycam', 'scripts/package/deb/bodycam', 'scripts/package/deb/bodycam-start']) {
      const lines = readFileSync(path.join(root, launcher), 'utf8').split('\n');
      const exec = lines.findIndex((l) => l.startsWith('exec "'));
      for (const line of daemonEnvLines()) {
        const at = lines.indexOf(line);
        expect(at, `${launcher}: ${line}`).toBeGreaterThan(-1);
        expect(at, `${launcher}: before the exec`).toBeLessThan(exec);
      }
    }
    expect(Object.keys(DAEMON_ENV).length).toBeGreaterThan(0);
  });

  it("the arm64 run starts the emulated daemon with the daemon's flags and environment", () => {
    const script = readFileSync(path.resolve(import.meta.dirname, '../../../scripts/arm64/test.sh'), 'utf8');
    // The qemu-aarch64 command that runs `bodycam run`, with its continuation lines.
    const start = script.indexOf('qemu-aarch64-static -L');
    const end = script.indexOf(' run --config', start);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const command = script.slice(start, end).replace(/\\\n/g, ' ').replace(/\s+/g, ' ');
    expect(command).toContain(`"$ARM64_NODE" ${DAEMON_NODE_FLAGS.join(' ')} "`);
    for (const [k, v] of Object.entries(DAEMON_ENV)) expect(command).toContain(`-E ${k}=${v} `);
  });

  it('the arm64 image sets the daemon environment', () => {
    const docker = readFileSync(path.resolve(import.meta.dirname, '../../../Dockerfile.arm64'), 'utf8').split('\n');
    for (const [k, v] of Object.entries(DAEMON_ENV)) {
      expect(
        docker.some((l) => l.startsWith('ENV ') && l.split(/\s+/).includes(`${k}=${v}`)),
        `Dockerfile.arm64: ENV ${k}=${v}`,
      ).toBe(true);
    }
  });
});

describe('the malloc mmap threshold', () => {
  it("is above a sync chunk's allocation, so that the chunks read for the dock reuse arena memory", () => {
    // glibc compares the request plus its 8-byte header, rounded up to 16, with the threshold.
    const chunkBlock = Math.ceil((CHUNK_BYTES + 8) / 16) * 16;
    expect(Number(DAEMON_ENV['MALLOC_MMAP_THRESHOLD_'])).toBeGreaterThan(chunkBlock);
    // and no higher than the next page boundary: every other large block keeps a mapping of its own, as at 256 KiB.
    expect(Number(DAEMON_ENV['MALLOC_MMAP_THRESHOLD_'])).toBe(Math.ceil((chunkBlock + 1) / 4096) * 4096);
  });
});

describe('collectGarbage', () => {
  it('collects where the daemon flags expose gc(), and does nothing elsewhere', () => {
    expect(DAEMON_NODE_FLAGS).toContain('--expose-gc');
    const global = globalThis as { gc?: () => void };
    const exposed = global.gc;
    let runs = 0;
    try {
      global.gc = () => {
        runs += 1;
      };
      expect(collectGarbage()).toBe(true);
      expect(runs).toBe(1);
      delete global.gc;
      expect(collectGarbage()).toBe(false);
      expect(runs).toBe(1);
    } finally {
      if (exposed !== undefined) global.gc = exposed;
    }
  });
});

describe('releaseNow', () => {
  it('empties a Buffer that is the whole of its memory', () => {
    const own = Buffer.alloc(100_000, 7);
    releaseNow(own);
    expect(own.length).toBe(0);
    expect(own.buffer.byteLength).toBe(0);
  });

  it('leaves a slice of shared memory and everything beside it alone', () => {
    // Node's pool: small Buffers are slices of one 8 KiB ArrayBuffer.
    const small = Buffer.from('pre-roll');
    const neighbour = Buffer.from('footage');
    expect(small.buffer).toBe(neighbour.buffer);
    releaseNow(small);
    expect(small.toString()).toBe('pre-roll');
    expect(neighbour.toString()).toBe('footage');
    // A slice of a larger Buffer, at its start or further in (an arena's fragment).
    const arena = Buffer.alloc(200_000, 1);
    const head = arena.subarray(0, 100_000);
    const inner = arena.subarray(100_000);
    releaseNow(head);
    releaseNow(inner);
    expect([head.length, inner.length, arena.length]).toEqual([100_000, 100_000, 200_000]);
    expect(arena.every((b) => b === 1)).toBe(true);
  });
});
