/** The scripted process runner, the stand-in behind the process port (what stopProcess does with it: process-supervision). */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { ScriptedProcesses } from '../../../src/hal/process/scripted.ts';
import { errnoCode } from '../../../src/lib/errors.ts';

describe('ScriptedProcesses', () => {
  it('runs the script for the command and records every call with its arguments and stdin', async () => {
    const runner = new ScriptedProcesses().define('tr', async (call) => {
      const input = (await call.stdin).toString();
      call.stdout(input.toUpperCase());
      call.stderr('done\n');
      call.exit(call.args[0] === '--fail' ? 2 : 0);
    });
    const ok = await runner.run({ command: 'tr', args: ['a-z', 'A-Z'] }, { input: 'abc' });
    const bad = await runner.run({ command: 'tr', args: ['--fail'] }, { input: 'x' });
    expect(ok).toEqual({ code: 0, signal: null, error: undefined, stdout: 'ABC', stderr: 'done\n', timedOut: false });
    expect(bad.code).toBe(2);
    expect(runner.calls.map((c) => c.args)).toEqual([['a-z', 'A-Z'], ['--fail']]);
    expect((await runner.calls[0]?.stdin)?.toString()).toBe('abc');
    expect(runner.callsOf('tr')).toHaveLength(2);
  });

  it("stdoutTo sends a script's stdout into another process's stdin, not to the caller", async () => {
    const runner = new ScriptedProcesses()
      .define('wc', async (call) => {
        call.stdout(String((await call.stdin).length));
        call.exit(0);
      })
      .define('head', (call) => {
        call.stdout(Buffer.alloc(5000));
        call.exit(0);
      });
    const reader = runner.spawn({ command: 'wc', args: ['-c'], stdin: 'pipe' });
    if (reader.stdin === null) throw new Error('no stdin');
    const writer = runner.spawn({ command: 'head', args: [], stdoutTo: reader.stdin });
    const seenHere: Buffer[] = [];
    writer.stdout.on('data', (chunk: Buffer) => seenHere.push(chunk));
    await writer.exited;
    await reader.exited;
    expect((await runner.calls[0]?.stdin)?.length).toBe(5000);
    expect(seenHere).toEqual([]);
  });

  it("stdoutInto reads a script's stdout into the sink's space, in order and all before exited, not to the caller", async () => {
    const runner = new ScriptedProcesses().define('ffmpeg', (call) => {
      call.stdout(Buffer.from('0123456789'));
      call.stdout('abc');
      call.exit(0);
    });
    // A sink offering 4 bytes at a time: a chunk longer than that arrives in several reads.
    const memory = Buffer.alloc(4);
    const got: string[] = [];
    const proc = runner.spawn({
      command: 'ffmpeg',
      args: [],
      stdoutInto: { space: () => memory, wrote: (n) => got.push(memory.toString('latin1', 0, n)) },
    });
    const seenHere: Buffer[] = [];
    proc.stdout.on('data', (chunk: Buffer) => seenHere.push(chunk));
    await proc.exited;
    expect(got).toEqual(['0123', '4567', '89', 'abc']);
    expect(seenHere).toEqual([]);
  });

  it('an undefined command fails to start like a missing binary (ENOENT), and is recorded', async () => {
    const runner = new ScriptedProcesses();
    const proc = runner.spawn({ command: 'aplay', args: ['-q'], stdin: 'pipe' });
    proc.kill('SIGTERM');
    const exit = await proc.exited;
    expect(proc.pid).toBeUndefined();
    expect(errnoCode(exit.error)).toBe('ENOENT');
    expect(exit.error?.message).toBe('spawn aplay ENOENT');
    expect(runner.calls[0]?.signals).toEqual([]);
    expect(runner.calls.map((c) => c.command)).toEqual(['aplay']);
  });

  it('a process runs until its script exits it, possibly later', async () => {
    const clock = new FakeClock();
    const runner = new ScriptedProcesses().define('sleep', (call) => {
      clock.setTimeout(() => call.exit(0), Number(call.args[0]) * 1000);
    });
    const proc = runner.spawn({ command: 'sleep', args: ['5'] });
    let done = false;
    void proc.exited.then(() => {
      done = true;
    });
    await clock.advance(4999);
    expect(done).toBe(false);
    expect(runner.calls[0]?.running).toBe(true);
    await clock.advance(1);
    expect(done).toBe(true);
    expect(await proc.exited).toEqual({ code: 0, signal: null, error: undefined });
  });

  it('kill makes it die of the signal by default; exitBySignal does the same from the script', async () => {
    const runner = new ScriptedProcesses()
      .define('daemon', () => {})
      .define('crash', (call) => call.exitBySignal('SIGSEGV'));
    const daemon = runner.spawn({ command: 'daemon', args: [] });
    daemon.kill('SIGINT');
    expect((await daemon.exited).signal).toBe('SIGINT');
    expect((await runner.run({ command: 'crash', args: [] })).signal).toBe('SIGSEGV');
  });

  it('run() times out on the injected clock', async () => {
    const clock = new FakeClock();
    const runner = new ScriptedProcesses({ clock }).define('hang', (call) => call.stdout('partial'));
    const result = runner.run({ command: 'hang', args: [] }, { timeoutMs: 1000 });
    await clock.advance(1000);
    expect(await result).toMatchObject({ timedOut: true, signal: 'SIGKILL', stdout: 'partial' });
  });

  it('a script that throws exits 1 with the error on stderr', async () => {
    const runner = new ScriptedProcesses().define('bad', () => {
      throw new Error('boom');
    });
    const r = await runner.run({ command: 'bad', args: [] });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('script for bad threw: boom\n');
  });

  it('keeps a bounded stderr tail, and ignores output after exit', async () => {
    const runner = new ScriptedProcesses().define('noisy', (call) => {
      for (let i = 1; i <= 50; i++) call.stderr(`line ${i}\n`);
      call.exit(1);
      call.stderr('too late\n');
    });
    const proc = runner.spawn({ command: 'noisy', args: [] });
    await proc.exited;
    expect(proc.stderrTail()).toHaveLength(40);
    expect(proc.stderrTail().at(-1)).toBe('line 50');
  });

  it('stdin is empty when the spec did not pipe it', async () => {
    const runner = new ScriptedProcesses().define('true', (call) => call.exit(0));
    const proc = runner.spawn({ command: 'true', args: [] });
    expect(proc.stdin).toBeNull();
    await proc.exited;
    expect((await runner.calls[0]?.stdin)?.length).toBe(0);
  });
});
