/**
 * The real ProcessRunner, on node:child_process, with the supervision habits in one place: an optional own process
 * group (kill reaches everything the command forked), a bounded stderr tail, an `exited` promise that never rejects
 * (a missing binary settles it with `error`), and `stopProcess`: SIGTERM, then SIGKILL after a grace period.
 */
import { type ChildProcess, spawn as spawnChild } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Clock, TimerHandle } from '../clock/port.ts';
import { realClock } from '../clock/real.ts';
import type { ProcessExit, ProcessRunner, ProcessSpec, RunningProcess, RunOptions, RunResult } from './port.ts';

/** stderr lines kept for the log when a process ends (the capture producer keeps as many). */
export const STDERR_TAIL_LINES = 40;
/** Longest line kept, so a tool that never writes a newline cannot grow the tail without bound. */
const MAX_LINE_CHARS = 1000;
/**
 * Once the process itself has exited, how long its pipes may stay open (held by something it forked and left
 * behind) before they are cut and `exited` settles anyway; otherwise a timeout kill could still hang run().
 */
export const EXIT_DRAIN_MS = 500;

/** The last lines of a text stream, bounded in count and in line length. */
export class LineTail {
  readonly #limit: number;
  readonly #lines: string[] = [];
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';

  constructor(limit: number = STDERR_TAIL_LINES) {
    this.#limit = limit;
  }

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    const lines = (this.#partial + text).split('\n');
    this.#partial = (lines.pop() ?? '').slice(0, MAX_LINE_CHARS);
    for (const line of lines) this.#lines.push(line.slice(0, MAX_LINE_CHARS));
    if (this.#lines.length > this.#limit) this.#lines.splice(0, this.#lines.length - this.#limit);
  }

  /** The kept lines, oldest first, including an unfinished last line. */
  lines(): string[] {
    const all = this.#partial === '' ? [...this.#lines] : [...this.#lines, this.#partial];
    return all.slice(-this.#limit);
  }
}

export interface NodeProcessRunnerOptions {
  /** Timers for run() timeouts and the exit drain (default: the real clock). */
  clock?: Clock;
}

/**
 * Spawns real processes. `spec.env` is added to this process's environment (PATH, NOTIFY_SOCKET, … stay visible);
 * stdin write errors (EPIPE when the process has gone) are absorbed, since `exited` reports what happened.
 */
export class NodeProcessRunner implements ProcessRunner {
  readonly #clock: Clock;

  constructor(opts: NodeProcessRunnerOptions = {}) {
    this.#clock = opts.clock ?? realClock;
  }

  spawn(spec: ProcessSpec): RunningProcess {
    const group = spec.detached ?? false;
    const { command, args } = spec.dieWithParent === true ? dieWithParentCommand(spec) : spec;
    let child: ChildProcess;
    try {
      child = spawnChild(command, [...args], {
        detached: group,
        stdio: [spec.stdin ?? 'ignore', 'pipe', 'pipe'],
        ...(spec.env === undefined ? {} : { env: { ...process.env, ...spec.env } }),
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      });
    } catch (e) {
      // Invalid arguments (a NUL byte in an argument, …) throw here; report them like a failed start.
      return notStarted(spec, e instanceof Error ? e : new Error(String(e)));
    }
    return supervise(child, group, this.#clock);
  }

  /** Runs to the end; `options.input` switches stdin to a pipe. Fork-happy commands should run detached. */
  run(spec: ProcessSpec, options: RunOptions = {}): Promise<RunResult> {
    const proc = this.spawn(options.input === undefined ? spec : { ...spec, stdin: 'pipe' });
    return collect(proc, options, this.#clock);
  }
}

/** util-linux's setpriv: on every Debian system (util-linux is essential). */
export const SETPRIV = '/usr/bin/setpriv';

/**
 * The command line that runs `spec` so that it ends with its parent (see `ProcessSpec.dieWithParent`): setpriv gives
 * a POSIX shell SIGTERM as its parent-death signal; the shell starts the command in the background, forwards
 * SIGTERM/SIGINT/SIGHUP to it, waits for it to end and exits with its status. The command keeps the shell's stdio,
 * so its output reaches the caller as before. A pure function: tested by comparing lists.
 */
export function dieWithParentCommand(spec: Pick<ProcessSpec, 'command' | 'args'>): { command: string; args: string[] } {
  const script =
    'trap \'kill -TERM "$child" 2>/dev/null\' TERM INT HUP; "$@" & child=$!; ' +
    'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || exit "$status"; done';
  return {
    command: SETPRIV,
    args: ['--pdeathsig', 'TERM', '--', '/bin/sh', '-c', script, 'sh', spec.command, ...spec.args],
  };
}

/**
 * The half of run() that any runner shares: closes stdin after writing `input`, collects stdout and stderr,
 * SIGKILLs the process after `timeoutMs`, and resolves once it has exited.
 */
export async function collect(proc: RunningProcess, options: RunOptions, clock: Clock): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer | string) => out.push(Buffer.from(chunk)));
  proc.stderr.on('data', (chunk: Buffer | string) => err.push(Buffer.from(chunk)));
  if (options.input === undefined) proc.stdin?.end();
  else proc.stdin?.end(options.input);
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : clock.setTimeout(() => {
          timedOut = true;
          proc.kill('SIGKILL');
        }, options.timeoutMs);
  const exit = await proc.exited;
  if (timer !== undefined) clock.clearTimeout(timer);
  return {
    ...exit,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    timedOut,
  };
}

export interface StopOptions {
  clock: Clock;
  /** How long SIGTERM gets before SIGKILL. */
  graceMs: number;
}

/** SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves with the exit. */
export async function stopProcess(proc: RunningProcess, opts: StopOptions): Promise<ProcessExit> {
  proc.kill('SIGTERM');
  const timer = opts.clock.setTimeout(() => proc.kill('SIGKILL'), opts.graceMs);
  const exit = await proc.exited;
  opts.clock.clearTimeout(timer);
  return exit;
}

function supervise(child: ChildProcess, group: boolean, clock: Clock): RunningProcess {
  const { stdout, stderr } = child;
  if (stdout === null || stderr === null) throw new Error('spawn with stdio pipe gave no stdout'); // cannot happen
  const tail = new LineTail();
  stderr.on('data', (chunk: Buffer) => tail.push(chunk));
  // EPIPE (the process has gone) or a write to a process that never started: `exited` says what happened, and an
  // 'error' event without a listener would crash the daemon instead.
  child.stdin?.on('error', () => {});
  const exited = new Promise<ProcessExit>((resolve) => {
    let spawnError: Error | undefined;
    let drain: TimerHandle | undefined;
    const finish = (exit: ProcessExit): void => {
      if (drain !== undefined) clock.clearTimeout(drain);
      resolve(exit); // idempotent: the first of error, close or drain wins
    };
    child.on('error', (e) => {
      spawnError = e;
      // A failed spawn (ENOENT, EACCES) has no pid and emits no exit; settle now, before a 'close' with code -2.
      if (child.pid === undefined) finish({ code: null, signal: null, error: e });
    });
    child.once('exit', (code, signal) => {
      drain = clock.setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
        finish({ code, signal, error: spawnError });
      }, EXIT_DRAIN_MS);
    });
    child.once('close', (code, signal) => finish({ code, signal, error: spawnError }));
  });
  return {
    pid: child.pid,
    stdout,
    stderr,
    stdin: child.stdin,
    exited,
    kill(signal) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (group) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // ESRCH: the group is already gone, which is what we wanted.
      }
    },
    stderrTail: () => tail.lines(),
  };
}

function notStarted(spec: ProcessSpec, error: Error): RunningProcess {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  return {
    pid: undefined,
    stdout: Readable.from([]),
    stderr: Readable.from([]),
    stdin: spec.stdin === 'pipe' ? discard : null,
    exited: Promise.resolve({ code: null, signal: null, error }),
    kill: () => {},
    stderrTail: () => [error.message],
  };
}
