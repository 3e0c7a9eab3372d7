/**
 * The real ProcessRunner, on node:child_process: an optional own process group (kill reaches everything the command
 * forked), a bounded stderr tail, an `exited` promise that never rejects (a missing binary settles it with `error`),
 * and a parent-death signal on request. Stopping a process is `stopProcess` in `supervision.ts`, for every driver.
 */
import { type ChildProcess, execFileSync, spawn as spawnChild } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Clock, TimerHandle } from '../clock/port.ts';
import { realClock } from '../clock/real.ts';
import type {
  ProcessExit,
  ProcessRunner,
  ProcessSpec,
  RunningProcess,
  RunOptions,
  RunResult,
  StdoutSink,
} from './port.ts';
import { collect, feedSink, LineTail } from './supervision.ts';

/**
 * Once the process itself has exited, how long its pipes may stay open (held by something it forked and left
 * behind) before they are cut and `exited` settles anyway; otherwise a timeout kill could still hang run().
 */
export const EXIT_DRAIN_MS = 500;

export interface NodeProcessRunnerOptions {
  /** Timers for run() timeouts and the exit drain (default: the real clock). */
  clock?: Clock;
  /**
   * Where the FIFO behind `stdoutInto` may be made, in order (default: `/dev/shm`, a tmpfs, then the temporary
   * directory): a name made and removed on the card would dirty a directory block of it at every capture start.
   */
  pipeDirs?: readonly string[];
}

const PIPE_DIRS = ['/dev/shm', os.tmpdir()] as const;

/** What systemd gives the program itself and no child of it may use (docs/design.md §13). */
export const SERVICE_MANAGER_VARIABLES = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;

/**
 * This process's environment for a child, without systemd's notify socket and watchdog: a child that speaks the
 * notify protocol itself (Debian's Mosquitto does) would otherwise tell systemd the dock is ready before the dock
 * is. `systemd-notify` gets the socket back through its spec's `env`. A pure function: tested as a table.
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of SERVICE_MANAGER_VARIABLES) delete out[name];
  return out;
}

/**
 * Spawns real processes. `spec.env` is added to this process's environment, less systemd's notify variables
 * (`childEnvironment`);
 * stdin write errors (EPIPE when the process has gone) are absorbed, since `exited` reports what happened.
 */
export class NodeProcessRunner implements ProcessRunner {
  readonly #clock: Clock;
  readonly #pipeDirs: readonly string[];

  constructor(opts: NodeProcessRunnerOptions = {}) {
    this.#clock = opts.clock ?? realClock;
    this.#pipeDirs = opts.pipeDirs ?? PIPE_DIRS;
  }

  spawn(spec: ProcessSpec): RunningProcess {
    const group = spec.detached ?? false;
    const { command, args } = spec.dieWithParent === true ? dieWithParentCommand(spec) : spec;
    const pipe = spec.stdoutInto !== undefined && spec.stdoutTo === undefined ? ownedPipe(this.#pipeDirs) : undefined;
    let child: ChildProcess;
    try {
      child = spawnChild(command, [...args], {
        detached: group,
        stdio: [spec.stdin ?? 'ignore', spec.stdoutTo ?? pipe?.writeFd ?? 'pipe', 'pipe'],
        env: { ...childEnvironment(process.env), ...spec.env },
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      });
    } catch (e) {
      if (pipe !== undefined) closeSync(pipe.readFd);
      // Invalid arguments (a NUL byte in an argument, …) throw here; report them like a failed start.
      return notStarted(spec, e instanceof Error ? e : new Error(String(e)));
    } finally {
      // The child holds its own copy of the descriptor now (or never started): ours would keep the reader from
      // ever seeing end-of-file.
      spec.stdoutTo?.destroy();
      if (pipe !== undefined) closeSync(pipe.writeFd);
    }
    const into =
      spec.stdoutInto === undefined ? undefined : { sink: spec.stdoutInto, ...(pipe === undefined ? {} : { pipe }) };
    return supervise(child, group, this.#clock, into);
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
 * SIGTERM/SIGINT to it as SIGTERM and SIGHUP as SIGHUP (a reload: Mosquitto re-reads its configuration), waits for it
 * to end and exits with its status. A stop that comes between starting the command and learning its pid (the shell
 * runs a trap between any two commands) is remembered and forwarded once the pid is known: without that, a parent
 * killed at that moment left the command running (seen under load). The command keeps the shell's stdio, so its
 * output reaches the caller as before. A pure function: tested by comparing lists.
 */
export function dieWithParentCommand(spec: Pick<ProcessSpec, 'command' | 'args'>): { command: string; args: string[] } {
  const script =
    'stop= child=; trap \'stop=1; kill -TERM "$child" 2>/dev/null\' TERM INT; trap \'kill -HUP "$child" 2>/dev/null\' HUP; ' +
    '"$@" & child=$!; [ -z "$stop" ] || kill -TERM "$child" 2>/dev/null; ' +
    'while :; do wait "$child"; status=$?; kill -0 "$child" 2>/dev/null || exit "$status"; done';
  return {
    command: SETPRIV,
    args: ['--pdeathsig', 'TERM', '--', '/bin/sh', '-c', script, 'sh', spec.command, ...spec.args],
  };
}

interface OwnedPipe {
  readFd: number;
  writeFd: number;
}

/**
 * A pipe this process reads with `onread` into a sink's memory (`ProcessSpec.stdoutInto`). Node cannot make an
 * anonymous pipe, so a FIFO is made in a private directory (coreutils' mkfifo, ~2 ms, once per start) in the first of
 * `dirs` that allows it, both ends are opened and the name is removed at once: what is left is a pipe only these two
 * descriptors reach. The read end is opened first, without blocking, so that opening the write end returns at once;
 * the write end becomes the child's stdout and is closed here after the spawn, so end-of-file comes when the child
 * (and all it forked) lets go of it. Undefined when no directory allows it (or mkfifo is missing): stdout is then
 * piped as usual and copied into the sink, slower and the same.
 */
function ownedPipe(dirs: readonly string[]): OwnedPipe | undefined {
  for (const parent of dirs) {
    let dir: string | undefined;
    let readFd: number | undefined;
    try {
      dir = mkdtempSync(path.join(parent, 'bodycam-pipe-'));
      const fifo = path.join(dir, 'stdout');
      execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore', timeout: 5000 });
      readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      return { readFd, writeFd: openSync(fifo, constants.O_WRONLY) };
    } catch {
      if (readFd !== undefined) closeSync(readFd);
    } finally {
      // A name left behind (an error removing it) costs nothing: the pipe is reached through its descriptors.
      if (dir !== undefined) removeQuietly(dir);
    }
  }
  return undefined;
}

function removeQuietly(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // see above
  }
}

/**
 * The read end of an owned pipe, each read going into the sink's memory. Undefined when Node will not open it as a
 * socket (the descriptor is then closed: the process gets EPIPE at its first write and ends, and its owner hears it).
 */
function readInto(sink: StdoutSink, fd: number): Socket | undefined {
  let socket: Socket;
  try {
    socket = new Socket({
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: () => sink.space(),
        callback: (n: number) => {
          if (n > 0) sink.wrote(n);
          return true;
        },
      },
    });
  } catch {
    closeSync(fd);
    return undefined;
  }
  // Flowing, so that end-of-file ends and closes it (no bytes pass through the stream itself).
  socket.resume();
  // EIO and the like end the stream as end-of-file would; `exited` says what happened to the process.
  socket.on('error', () => socket.destroy());
  return socket;
}

function supervise(
  child: ChildProcess,
  group: boolean,
  clock: Clock,
  into?: { sink: StdoutSink; pipe?: OwnedPipe },
): RunningProcess {
  const { stderr } = child;
  if (stderr === null) throw new Error('spawn with stdio pipe gave no stderr'); // cannot happen
  // Null when the spec sent it to another process (`stdoutTo`) or into an owned pipe.
  const piped = child.stdout ?? Readable.from([]);
  const owned = into?.pipe === undefined ? undefined : readInto(into.sink, into.pipe.readFd);
  if (into !== undefined && into.pipe === undefined) piped.on('data', (chunk: Buffer) => feedSink(into.sink, chunk));
  // What the caller reads: nothing when the bytes go to a sink.
  const stdout = into === undefined ? piped : Readable.from([]);
  // The child's 'close' waits for its own pipes only; the owned pipe's end is awaited here.
  const ownedClosed =
    owned === undefined ? Promise.resolve() : new Promise<void>((resolve) => owned.once('close', () => resolve()));
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
        piped.destroy();
        owned?.destroy();
        stderr.destroy();
        finish({ code, signal, error: spawnError });
      }, EXIT_DRAIN_MS);
    });
    child.once('close', (code, signal) => void ownedClosed.then(() => finish({ code, signal, error: spawnError })));
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
