/**
 * The real process runner with real processes, in real time (so an integration test): exit codes and signals,
 * stdin, a timeout kill, a missing binary, a command that leaves a child holding its pipes, a whole process group
 * killed, a polite stop escalated to SIGKILL, and a daemon's children ending when it is SIGKILLed. What does not
 * need a real process (the stop on the clock, the stderr tail, the argument lists) is in
 * test/unit/hal/process-supervision.test.ts.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { realClock } from '../../../src/hal/clock/real.ts';
import { NodeProcessRunner } from '../../../src/hal/process/node.ts';
import { stopProcess } from '../../../src/hal/process/supervision.ts';
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

  it("keeps systemd's notify socket and watchdog from a child unless its spec hands them over", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' });
    try {
      const names = (out: string) =>
        out
          .split('\n')
          .map((l) => l.split('=')[0])
          .filter((n) => n === 'NOTIFY_SOCKET' || n?.startsWith('WATCHDOG_') || n === 'PATH');
      const plain = await runner.run({ command: 'env', args: [] });
      expect(names(plain.stdout)).toEqual(['PATH']);
      const handed = await runner.run({ command: 'env', args: [], env: { NOTIFY_SOCKET: '/run/x' } });
      expect(handed.stdout).toContain('NOTIFY_SOCKET=/run/x\n');
      expect(names(handed.stdout).sort()).toEqual(['NOTIFY_SOCKET', 'PATH']);
    } finally {
      for (const name of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
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

  it('stdoutTo joins one process to the next without passing the bytes through this one', async () => {
    // The reader starts a second late: 20 MB cannot wait in the pipe, so the writer must block, not fail with
    // EAGAIN (libuv keeps its own pipe ends non-blocking; a child's stdio is made blocking at its start).
    const reader = runner.spawn({ command: 'sh', args: ['-c', 'sleep 1; exec wc -c'], stdin: 'pipe' });
    if (reader.stdin === null) throw new Error('no stdin');
    const writer = runner.spawn({ command: 'head', args: ['-c', '20000000', '/dev/zero'], stdoutTo: reader.stdin });
    const seenHere: Buffer[] = [];
    writer.stdout.on('data', (chunk: Buffer) => seenHere.push(chunk));
    // wc ends only once every copy of its stdin's write end is closed, ours included.
    const [count, written] = await Promise.all([firstLine(reader), writer.exited]);
    expect(count.trim()).toBe('20000000');
    expect(written).toEqual({ code: 0, signal: null, error: undefined });
    expect(writer.stderrTail()).toEqual([]);
    expect(await reader.exited).toEqual({ code: 0, signal: null, error: undefined });
    expect(Buffer.concat(seenHere).length).toBe(0);
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
    await until(() => !alive(child)); // SIGTERM reaches the orphan asynchronously
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
    const proc = runner.spawn({ command: 'sh', args: ['-c', 'trap "" TERM; echo ready; sleep 30'], detached: true });
    expect(await firstLine(proc)).toBe('ready');
    const t0 = performance.now();
    const exit = await stopProcess(proc, { clock: realClock, graceMs: 300 });
    expect(exit.signal).toBe('SIGKILL');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290); // SIGTERM did not end it; SIGKILL came at the grace
  });
});

it('arguments go to the command as a list, not through a shell', async () => {
  const proc = runner.spawn({ command: 'echo', args: ['a', 'b c'] });
  const [chunk] = (await once(proc.stdout, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('a b c\n');
  expect((await proc.exited).code).toBe(0);
});

describe('dieWithParent', () => {
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
    const cmdline = (pid: string) => {
      try {
        return pid === '' ? '' : readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return ''; // gone between the two reads
      }
    };
    // The shell forks, then the fork execs sleep: wait until the child runs sleep, not the shell's copy of itself.
    // Bounds for a loaded machine (a CI run beside other work once took over 5 s here); what is claimed is the end.
    await until(() => alive(shell) && cmdline(sleeper()).includes(mark), 20_000);
    const child = Number(sleeper());
    expect(cmdline(String(child))).toContain(mark);
    parent.kill('SIGKILL');
    await parent.exited;
    await until(() => !alive(child) && !alive(shell), 20_000);
    expect([alive(shell), alive(child)]).toEqual([false, false]);
  }, 60_000);
});

async function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}
