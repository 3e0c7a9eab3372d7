/**
 * The process stand-in for tests. A test defines a script per command name; each spawn of that command runs the
 * script with a ScriptedCall, through which the script reads stdin, writes stdout and stderr, and exits. Every spawn
 * is recorded in `calls`, so tests compare argument lists. An undefined command fails to start like a missing
 * binary (ENOENT).
 *
 * ```ts
 * const runner = new ScriptedProcesses().define('aplay', async (call) => {
 *   const wav = await call.stdin;
 *   call.exit(wav.length > 44 ? 0 : 1);
 * });
 * ```
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import type { Clock } from '../clock/port.ts';
import { realClock } from '../clock/real.ts';
import type { ProcessExit, ProcessRunner, ProcessSpec, RunningProcess, RunOptions, RunResult } from './port.ts';
import { collect, feedSink, LineTail } from './supervision.ts';

/** What a defined command does. Returning does not end the process: call `exit` (now or later). */
export type Script = (call: ScriptedCall) => void | Promise<void>;

/** One spawned process: the script's controls, and the record a test reads afterwards. */
export class ScriptedCall {
  readonly command: string;
  readonly args: readonly string[];
  readonly spec: ProcessSpec;
  /** Everything written to stdin, once the caller closes it or the process ends (empty when not piped). */
  readonly stdin: Promise<Buffer>;
  /** Signals sent with kill(), in order. */
  readonly signals: NodeJS.Signals[] = [];
  /** What kill() does: by default the process dies of the signal; replace it to ignore one (say SIGTERM). */
  onKill: (signal: NodeJS.Signals) => void = (signal) => this.exitBySignal(signal);
  /** The caller's side. */
  readonly process: RunningProcess;
  readonly exited: Promise<ProcessExit>;
  readonly #out = new PassThrough();
  readonly #err = new PassThrough();
  readonly #tail = new LineTail();
  readonly #settle: (exit: ProcessExit) => void;
  readonly #endStdin: () => void;
  #ended = false;

  constructor(spec: ProcessSpec, pid: number | undefined) {
    this.command = spec.command;
    this.args = [...spec.args];
    this.spec = spec;
    const exit = Promise.withResolvers<ProcessExit>();
    this.exited = exit.promise;
    this.#settle = exit.resolve;
    const input = Promise.withResolvers<Buffer>();
    const chunks: Buffer[] = [];
    this.stdin = input.promise;
    this.#endStdin = () => input.resolve(Buffer.concat(chunks));
    const stdin =
      spec.stdin === 'pipe'
        ? new Writable({
            write: (chunk: Buffer, _encoding, done) => {
              if (!this.#ended) chunks.push(Buffer.from(chunk));
              done();
            },
            final: (done) => {
              this.#endStdin();
              done();
            },
          })
        : null;
    if (stdin === null) this.#endStdin();
    // Like the real runner, a stdout sent to another process's stdin reaches it, and the caller's own is empty.
    if (spec.stdoutTo !== undefined) this.#out.pipe(spec.stdoutTo);
    // And one read into a sink's memory reaches the sink, read by read.
    const sink = spec.stdoutTo === undefined ? spec.stdoutInto : undefined;
    if (sink !== undefined) this.#out.on('data', (chunk: Buffer) => feedSink(sink, chunk));
    this.process = {
      pid,
      stdout: spec.stdoutTo === undefined && sink === undefined ? this.#out : Readable.from([]),
      stderr: this.#err,
      stdin,
      exited: this.exited,
      kill: (signal) => {
        if (this.#ended || pid === undefined) return;
        this.signals.push(signal);
        this.onKill(signal);
      },
      stderrTail: () => this.#tail.lines(),
    };
  }

  /** Still running: started and not yet exited. */
  get running(): boolean {
    return !this.#ended;
  }

  stdout(data: string | Buffer): void {
    if (!this.#ended) this.#out.write(data);
  }

  stderr(data: string | Buffer): void {
    if (this.#ended) return;
    this.#tail.push(data);
    this.#err.write(data);
  }

  exit(code: number): void {
    this.#end({ code, signal: null, error: undefined });
  }

  exitBySignal(signal: NodeJS.Signals): void {
    this.#end({ code: null, signal, error: undefined });
  }

  /** Ends it as a process that could not be started (used for undefined commands). */
  failToStart(error: Error): void {
    this.#end({ code: null, signal: null, error });
  }

  #end(exit: ProcessExit): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#out.end();
    this.#err.end();
    this.#endStdin();
    // Let the output written so far reach the caller's listeners first, as a real 'close' would.
    setImmediate(() => this.#settle(exit));
  }
}

export interface ScriptedProcessesOptions {
  /** Timers for run() timeouts (default: the real clock). */
  clock?: Clock;
}

/** A ProcessRunner whose processes are scripts. */
export class ScriptedProcesses implements ProcessRunner {
  /** Every spawn, in order, including those of undefined commands. */
  readonly calls: ScriptedCall[] = [];
  readonly #scripts = new Map<string, Script>();
  readonly #clock: Clock;
  #nextPid = 1000;

  constructor(opts: ScriptedProcessesOptions = {}) {
    this.#clock = opts.clock ?? realClock;
  }

  /** Script `command` (matched exactly, as spawned); a later define replaces an earlier one. */
  define(command: string, script: Script): this {
    this.#scripts.set(command, script);
    return this;
  }

  /** The calls of one command, in order. */
  callsOf(command: string): ScriptedCall[] {
    return this.calls.filter((c) => c.command === command);
  }

  spawn(spec: ProcessSpec): RunningProcess {
    const script = this.#scripts.get(spec.command);
    const call = new ScriptedCall(spec, script === undefined ? undefined : this.#nextPid++);
    this.calls.push(call);
    if (script === undefined) {
      call.failToStart(enoent(spec.command));
    } else {
      // Start on a microtask, as a real process starts after spawn() returns; a script that throws exits 1.
      Promise.resolve()
        .then(() => script(call))
        .catch((e: unknown) => {
          call.stderr(`script for ${spec.command} threw: ${e instanceof Error ? e.message : String(e)}\n`);
          call.exit(1);
        });
    }
    return call.process;
  }

  run(spec: ProcessSpec, options: RunOptions = {}): Promise<RunResult> {
    const proc = this.spawn(options.input === undefined ? spec : { ...spec, stdin: 'pipe' });
    return collect(proc, options, this.#clock);
  }
}

function enoent(command: string): Error {
  return Object.assign(new Error(`spawn ${command} ENOENT`), {
    code: 'ENOENT',
    errno: -2,
    syscall: `spawn ${command}`,
    path: command,
  });
}
