import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { realClock } from '../../../src/hal/clock/real.ts';
import {
  dieWithParentCommand,
  LineTail,
  NodeProcessRunner,
  SETPRIV,
  stopProcess,
} from '../../../src/hal/process/node.ts';
import { errnoCode } from '../../../src/lib/errors.ts';

const runner = new NodeProcessRunner();
const MISSING = 'bodycam-no-such-command';

/** Whether a pid is still running (a zombie left for a PID 1 that does not reap counts as gone). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';
  } catch {
    return false;
  }
}

async function firstLine(proc: { stdout: NodeJS.ReadableStream }): Promise<string> {
  let text = '';
  for await (const chunk of proc.stdout) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split('\n')[0] ?? '';
}

describe('NodeProcessRunner.run', () => {
  it('collects stdout, stderr and the exit code', async () => {
    const r = await runner.run({ command: 'sh', args: ['-c', 'echo out; echo err >&2; exit 3'] });
    expect(r).toEqual({ code: 3, signal: null, error: undefined, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });

  it('writes input to stdin and closes it (binary safe)', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
    const r = await runner.run({ command: 'od', args: ['-An', '-tu1'] }, { input: bytes });
    expect(r.stdout.trim().split(/\s+/)).toEqual(['0', '1', '2', '255', '10', '13']);
    const text = await runner.run({ command: 'cat', args: [] }, { input: 'hello' });
    expect(text.stdout).toBe('hello');
  });

  it('a timeout SIGKILLs the command and says timedOut', async () => {
    const t0 = performance.now();
    const r = await runner.run({ command: 'sleep', args: ['10'] }, { timeoutMs: 100 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(r.code).toBeNull();
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('input to a command that exits without reading it (EPIPE) is no crash', async () => {
    const r = await runner.run({ command: 'sh', args: ['-c', 'exit 4'] }, { input: Buffer.alloc(4 << 20) });
    expect(r.code).toBe(4);
  });

  it('a missing binary resolves with ENOENT instead of rejecting', async () => {
    const r = await runner.run({ command: MISSING, args: [] }, { input: 'ignored', timeoutMs: 1000 });
    expect(errnoCode(r.error)).toBe('ENOENT');
    expect(r.code).toBeNull();
    expect(r.timedOut).toBe(false);
  });

  it('settles when the command exits but left a child holding its pipes', async () => {
    const t0 = performance.now();
    const r = await runner.run({ command: 'sh', args: ['-c', 'sleep 3 & echo hi'] });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi\n');
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  it('adds env to the inherited environment and honours cwd', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bodycam-proc-'));
    try {
      const r = await runner.run({
        command: 'sh',
        args: ['-c', 'echo "$BODYCAM_X"; pwd'],
        env: { BODYCAM_X: 'x1' },
        cwd: dir,
      });
      expect(r.stdout).toBe(`x1\n${await realpath(dir)}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('NodeProcessRunner.spawn', () => {
  it('exited settles on a failed spawn, and kill is harmless', async () => {
    const proc = runner.spawn({ command: MISSING, args: ['x'], stdin: 'pipe' });
    proc.kill('SIGTERM');
    proc.stdin?.write('no one listens'); // must not crash the test process with EPIPE/ERR_STREAM_DESTROYED
    const exit = await proc.exited;
    expect(proc.pid).toBeUndefined();
    expect(errnoCode(exit.error)).toBe('ENOENT');
    expect(exit.code).toBeNull();
  });

  it('pipes stdin through a long-running process', async () => {
    const proc = runner.spawn({ command: 'cat', args: [], stdin: 'pipe' });
    proc.stdin?.write('one\n');
    expect(await firstLine(proc)).toBe('one');
    proc.stdin?.end();
    expect(await proc.exited).toEqual({ code: 0, signal: null, error: undefined });
  });

  it('keeps the last 40 stderr lines, including an unfinished last line', async () => {
    const script = 'i=1; while [ $i -le 100 ]; do echo line$i >&2; i=$((i+1)); done; printf last >&2';
    const proc = runner.spawn({ command: 'sh', args: ['-c', script] });
    await proc.exited;
    const tail = proc.stderrTail();
    expect(tail).toHaveLength(40);
    expect(tail[0]).toBe('line62');
    expect(tail.at(-2)).toBe('line100');
    expect(tail.at(-1)).toBe('last');
  });

  it('detached: kill reaches what the command forked', async () => {
    const proc = runner.spawn({ command: 'sh', args: ['-c', 'sleep 30 & echo $!; wait'], detached: true });
    const child = Number(await firstLine(proc));
    expect(alive(child)).toBe(true);
    proc.kill('SIGTERM');
    const exit = await proc.exited;
    expect(exit.signal).toBe('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 50)); // SIGTERM reaches the orphan asynchronously
    expect(alive(child)).toBe(false);
    proc.kill('SIGKILL'); // after exit: harmless
  });
});

describe('stopProcess', () => {
  it('SIGTERM is enough for a well-behaved process', async () => {
    const proc = runner.spawn({ command: 'sleep', args: ['30'], detached: true });
    const exit = await stopProcess(proc, { clock: realClock, graceMs: 5000 });
    expect(exit.signal).toBe('SIGTERM');
  });

  it('SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const clock = new FakeClock();
    const proc = runner.spawn({ command: 'sh', args: ['-c', 'trap "" TERM; echo ready; sleep 30'], detached: true });
    expect(await firstLine(proc)).toBe('ready');
    let exited = false;
    const stopping = stopProcess(proc, { clock, graceMs: 2000 }).then((exit) => {
      exited = true;
      return exit;
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // real time for SIGTERM to (not) act
    expect(exited).toBe(false);
    await clock.advance(2000);
    expect((await stopping).signal).toBe('SIGKILL');
    expect(clock.pending).toBe(0);
  });
});

describe('LineTail', () => {
  it('joins lines split across chunks and multi-byte characters split across chunks', () => {
    const tail = new LineTail(3);
    const euro = Buffer.from('€\n');
    tail.push('a\nb');
    tail.push('c\n');
    tail.push(euro.subarray(0, 1));
    tail.push(euro.subarray(1));
    tail.push('d\ne\n');
    expect(tail.lines()).toEqual(['€', 'd', 'e']);
  });

  it('caps a line that never ends', () => {
    const tail = new LineTail();
    for (let i = 0; i < 100; i++) tail.push('x'.repeat(100));
    expect(tail.lines()).toEqual(['x'.repeat(1000)]);
  });
});

it('arguments go to the command as a list, not through a shell', async () => {
  const proc = runner.spawn({ command: 'echo', args: ['a', 'b c'] });
  const [chunk] = (await once(proc.stdout, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('a b c\n');
  expect((await proc.exited).code).toBe(0);
});

describe('dieWithParent', () => {
  it('runs the command under setpriv and a shell that forwards stop signals (argument list)', () => {
    expect(dieWithParentCommand({ command: '/usr/sbin/mosquitto', args: ['-c', '/d/m.conf'] })).toEqual({
      command: SETPRIV,
      args: [
        '--pdeathsig',
        'TERM',
        '--',
        '/bin/sh',
        '-c',
        'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT HUP; "$@" & child=$!; ' +
          'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || exit "$status"; done',
        'sh',
        '/usr/sbin/mosquitto',
        '-c',
        '/d/m.conf',
      ],
    });
  });

  it('keeps the output and exit status, and ends the command when its parent is SIGKILLed', async () => {
    const r = await runner.run({ command: 'sh', args: ['-c', 'echo out; echo err >&2; exit 7'], dieWithParent: true });
    expect([r.code, r.stdout, r.stderr]).toEqual([7, 'out\n', 'err\n']);
    const mark = `600.${process.pid}`; // a sleep this test alone starts
    // A parent that starts `sleep` with dieWithParent, prints the shell's pid and waits to be killed.
    const parent = runner.spawn({
      command: process.execPath,
      args: [
        '-e',
        `import(${JSON.stringify(new URL('../../../src/hal/process/node.ts', import.meta.url).href)}).then(({ NodeProcessRunner }) => {
          const p = new NodeProcessRunner().spawn({ command: 'sleep', args: ['${mark}'], dieWithParent: true, detached: true });
          console.log(p.pid); setInterval(() => {}, 1000);
        })`,
      ],
    });
    const shell = Number(await firstLine(parent));
    const sleeper = () => readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim();
    await until(() => alive(shell) && sleeper() !== '');
    const child = Number(sleeper());
    expect(readFileSync(`/proc/${child}/cmdline`, 'utf8')).toContain(mark);
    parent.kill('SIGKILL');
    await parent.exited;
    await until(() => !alive(child) && !alive(shell));
    expect([alive(shell), alive(child)]).toEqual([false, false]);
  });
});

async function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
