/**
 * What every process owner shares, on scripted processes and the fake clock: the one stop (a polite signal, SIGKILL
 * after the grace period), the bounded stderr tail, and the parent-death wrapper's argument list. The real runner
 * with real processes is test/integration/hal/process-node.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { childEnvironment, dieWithParentCommand, SETPRIV } from '../../../src/hal/process/node.ts';
import { ScriptedProcesses } from '../../../src/hal/process/scripted.ts';
import { LineTail, stopProcess } from '../../../src/hal/process/supervision.ts';

describe('stopProcess', () => {
  it('SIGTERM is enough for a well-behaved process, and leaves no timer', async () => {
    const clock = new FakeClock();
    const runner = new ScriptedProcesses({ clock }).define('sleep', () => {});
    const proc = runner.spawn({ command: 'sleep', args: ['30'] });
    await clock.advance(0);
    const exit = await stopProcess(proc, { clock, graceMs: 5000 });
    expect(exit.signal).toBe('SIGTERM');
    expect(runner.calls[0]?.signals).toEqual(['SIGTERM']);
    expect(clock.pending).toBe(0);
  });

  it('sends the polite signal asked for (ffmpeg finishes its write on SIGINT)', async () => {
    const clock = new FakeClock();
    const runner = new ScriptedProcesses({ clock }).define('ffmpeg', (call) => {
      call.onKill = (signal) => call.exit(signal === 'SIGINT' ? 255 : 1);
    });
    const proc = runner.spawn({ command: 'ffmpeg', args: [] });
    await clock.advance(0);
    expect(await stopProcess(proc, { clock, graceMs: 3000, signal: 'SIGINT' })).toEqual({
      code: 255,
      signal: null,
      error: undefined,
    });
    expect(runner.calls[0]?.signals).toEqual(['SIGINT']);
  });

  it('SIGKILL after the grace period when the signal is ignored', async () => {
    const clock = new FakeClock();
    const runner = new ScriptedProcesses({ clock }).define('stubborn', (call) => {
      call.onKill = (signal) => {
        if (signal === 'SIGKILL') call.exitBySignal(signal);
      };
    });
    const proc = runner.spawn({ command: 'stubborn', args: [] });
    await clock.advance(0);
    let exited = false;
    const stopping = stopProcess(proc, { clock, graceMs: 2000 }).then((exit) => {
      exited = true;
      return exit;
    });
    await clock.advance(1999);
    expect(exited).toBe(false);
    await clock.advance(1);
    expect((await stopping).signal).toBe('SIGKILL');
    expect(runner.calls[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
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

  it('keeps the last 40 lines by default, including an unfinished last line', () => {
    const tail = new LineTail();
    for (let i = 1; i <= 100; i++) tail.push(`line${i}\n`);
    tail.push('last');
    const lines = tail.lines();
    expect(lines).toHaveLength(40);
    expect([lines[0], lines.at(-2), lines.at(-1)]).toEqual(['line62', 'line100', 'last']);
  });
});

describe('dieWithParentCommand', () => {
  it('runs the command under setpriv and a shell that forwards stop signals (argument list)', () => {
    expect(dieWithParentCommand({ command: '/usr/sbin/mosquitto', args: ['-c', '/d/m.conf'] })).toEqual({
      command: SETPRIV,
      args: [
        '--pdeathsig',
        'TERM',
        '--',
        '/bin/sh',
        '-c',
        'stop= child=; trap \'stop=1; kill -TERM "$child" 2>/dev/null\' TERM INT; trap \'kill -HUP "$child" 2>/dev/null\' HUP; ' +
          '"$@" & child=$!; [ -z "$stop" ] || kill -TERM "$child" 2>/dev/null; ' +
          'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || exit "$status"; done',
        'sh',
        '/usr/sbin/mosquitto',
        '-c',
        '/d/m.conf',
      ],
    });
  });
});

describe('childEnvironment', () => {
  it.each([
    [{ PATH: '/usr/bin', NOTIFY_SOCKET: '/run/systemd/notify' }, { PATH: '/usr/bin' }],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42', HOME: '/var/lib/bodycam' }, { HOME: '/var/lib/bodycam' }],
    [{ LANG: 'C.UTF-8' }, { LANG: 'C.UTF-8' }],
    [{}, {}],
  ])('%o gives a child %o', (env, child) => {
    expect(childEnvironment(env)).toEqual(child);
  });

  it('leaves the environment it was given alone', () => {
    const env = { NOTIFY_SOCKET: '/run/systemd/notify' };
    childEnvironment(env);
    expect(env).toEqual({ NOTIFY_SOCKET: '/run/systemd/notify' });
  });
});
