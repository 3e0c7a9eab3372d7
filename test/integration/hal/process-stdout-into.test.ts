/**
 * The real runner reading a process's stdout into memory the reader owns (`ProcessSpec.stdoutInto`, how the capture
 * reads ffmpeg's fMP4): every byte in order and in the sink's own buffer, all of it before `exited` settles, no name
 * left in the temporary directory, the fallback to a plain pipe, and the ends (a child left holding the pipe, a
 * command that never started) with no descriptor left open.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';
import type { StdoutSink } from '../../../src/hal/process/port.ts';

const runner = new NodeProcessRunner();
/** A runner whose pipes are made in `dir` only. */
const runnerIn = (dir: string) => new NodeProcessRunner({ pipeDirs: [dir] });

/** A sink with one 64 KiB buffer of its own: what a read wrote is copied out of that buffer, and only from there. */
class Collector implements StdoutSink {
  readonly memory = new Uint8Array(64 * 1024);
  readonly chunks: Buffer[] = [];
  reads = 0;
  #offered: Uint8Array | undefined;

  space(): Uint8Array {
    this.#offered = this.memory.subarray(0);
    return this.#offered;
  }

  wrote(n: number): void {
    if (this.#offered === undefined) throw new Error('wrote without space');
    this.reads += 1;
    this.chunks.push(Buffer.from(this.memory.subarray(0, n)));
    this.#offered = undefined;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bodycam-into-test-'));
  dirs.push(d);
  return d;
}

function payload(bytes: number): { file: string; data: Buffer } {
  const data = randomBytes(bytes);
  const file = join(tempDir(), 'payload');
  writeFileSync(file, data);
  return { file, data };
}

const openDescriptors = () => readdirSync('/proc/self/fd').length;

describe('stdoutInto on the real runner', () => {
  it("reads every byte, in order, into the sink's own memory, and settles exited only after the last", async () => {
    const { file, data } = payload(3 * 1024 * 1024 + 17);
    const sink = new Collector();
    const proc = runner.spawn({ command: 'cat', args: [file], stdoutInto: sink });
    const exit = await proc.exited;
    expect(exit.code).toBe(0);
    expect(sink.bytes.equals(data)).toBe(true);
    // Many reads into the one 64 KiB buffer (none larger than it).
    expect(sink.reads).toBeGreaterThanOrEqual(Math.ceil(data.length / sink.memory.length));
    // The caller's own stdout carries nothing.
    const rest: Buffer[] = [];
    for await (const chunk of proc.stdout) rest.push(chunk as Buffer);
    expect(Buffer.concat(rest).length).toBe(0);
  });

  it('leaves no name in the temporary directory, and no descriptor open, once the process has ended', async () => {
    const dir = tempDir();
    const before = openDescriptors();
    const sink = new Collector();
    const proc = runnerIn(dir).spawn({
      command: 'sh',
      args: ['-c', 'printf hello; sleep 0.2; printf " world"'],
      stdoutInto: sink,
    });
    expect(readdirSync(dir)).toEqual([]);
    expect((await proc.exited).code).toBe(0);
    expect(sink.bytes.toString()).toBe('hello world');
    expect(openDescriptors()).toBe(before);
  });

  it("gives the process a pipe of its own as stdout, its name already gone (Node's stdio pipes are socket pairs)", async () => {
    const sink = new Collector();
    const proc = runner.spawn({ command: 'readlink', args: ['/proc/self/fd/1'], stdoutInto: sink });
    expect((await proc.exited).code).toBe(0);
    expect(sink.bytes.toString()).toMatch(/^\/.*\/bodycam-pipe-\w+\/stdout \(deleted\)\n$/);
  });

  it('falls back to the plain pipe with the same result when no pipe of its own can be made', async () => {
    const { file, data } = payload(512 * 1024 + 3);
    const nowhere = runnerIn(join(tempDir(), 'missing'));
    const sink = new Collector();
    const proc = nowhere.spawn({ command: 'cat', args: [file], stdoutInto: sink });
    expect((await proc.exited).code).toBe(0);
    expect(sink.bytes.equals(data)).toBe(true);
    const kind = new Collector();
    await nowhere.spawn({ command: 'readlink', args: ['/proc/self/fd/1'], stdoutInto: kind }).exited;
    expect(kind.bytes.toString()).toMatch(/^socket:\[\d+\]\n$/);
  });

  it('makes its pipe in the first directory that allows it: /dev/shm, a tmpfs, by default', async () => {
    const kind = new Collector();
    await new NodeProcessRunner({ pipeDirs: [join(tempDir(), 'missing'), '/dev/shm'] }).spawn({
      command: 'readlink',
      args: ['/proc/self/fd/1'],
      stdoutInto: kind,
    }).exited;
    expect(kind.bytes.toString()).toMatch(/^\/dev\/shm\/bodycam-pipe-\w+\/stdout \(deleted\)\n$/);
    const byDefault = new Collector();
    await runner.spawn({ command: 'readlink', args: ['/proc/self/fd/1'], stdoutInto: byDefault }).exited;
    expect(byDefault.bytes.toString()).toMatch(/^\/dev\/shm\//);
  });

  it('settles when the command exits but left a child holding its stdout', async () => {
    const sink = new Collector();
    const started = Date.now();
    const proc = runner.spawn({ command: 'sh', args: ['-c', 'sleep 10 & echo parent done'], stdoutInto: sink });
    const exit = await proc.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sink.bytes.toString()).toBe('parent done\n');
  });

  it('settles with the start error for a missing command and closes the pipe it made', async () => {
    const before = openDescriptors();
    const sink = new Collector();
    const proc = runner.spawn({ command: 'bodycam-no-such-command', args: [], stdoutInto: sink });
    const exit = await proc.exited;
    expect(exit.error?.message).toContain('ENOENT');
    await new Promise((r) => setTimeout(r, 50));
    expect(openDescriptors()).toBe(before);
    expect(sink.reads).toBe(0);
  });
});
