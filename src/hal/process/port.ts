/**
 * The process port: every child process the firmware starts (ffmpeg, rpicam-vid, aplay, systemd-notify, mosquitto,
 * tool probes) goes through a ProcessRunner, so tests can hand in a scripted stand-in and the supervision habits stay
 * in one place: own process group on request, a bounded stderr tail, and one stop for every driver
 * (`supervision.ts`: a polite signal, then SIGKILL after a grace period).
 */
import type { Readable, Writable } from 'node:stream';

export interface ProcessSpec {
  command: string;
  args: readonly string[];
  /** Run in its own process group, so kill() reaches everything it forked. */
  detached?: boolean;
  /** 'pipe' gives the caller a writable stdin; default 'ignore'. */
  stdin?: 'ignore' | 'pipe';
  /**
   * Another process's piped `stdin` to connect this process's stdout to, so that its bytes go from one process to the
   * other without passing through this one (rpicam-vid into ffmpeg: no read, copy or write here per chunk). The
   * runner closes the caller's end of that stdin, so its reader sees end-of-file once this process ends; this
   * process's own `stdout` is then empty. Default: stdout is piped to the caller.
   */
  stdoutTo?: Writable;
  /**
   * Memory the reader owns that this process's stdout is read into, read by read, instead of a Buffer allocated for
   * each read (ffmpeg's fMP4: ~1 MB/s through malloc, page faults and the GC otherwise). `exited` settles only once
   * everything the process wrote has been handed to the sink, except what something it forked and left behind writes
   * after the exit drain (the same bound as for piped output); its own `stdout` is then empty.
   */
  stdoutInto?: StdoutSink;
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /**
   * End it when this process dies, even by SIGKILL (a daemon must not leave its broker holding the port). The real
   * runner starts it under a small shell that the kernel signals when its parent dies (Linux parent-death signal,
   * through util-linux `setpriv`) and that then stops the command; a plain parent-death signal on the command itself
   * would be cleared when it switches user, as Mosquitto started by root does.
   */
  dieWithParent?: boolean;
}

/** Where a process's stdout is read into (`ProcessSpec.stdoutInto`). */
export interface StdoutSink {
  /** Where the next read goes: at least one byte of free space, valid until `wrote` returns. */
  space(): Uint8Array;
  /** The last read put `n` bytes (more than 0) at the start of the last `space()`. */
  wrote(n: number): void;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT for a missing binary, EACCES, …). */
  error: Error | undefined;
}

export interface RunningProcess {
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Present when the spec asked for stdin 'pipe'. */
  readonly stdin: Writable | null;
  /** Settles (never rejects) once the process is gone, or once it failed to start. */
  readonly exited: Promise<ProcessExit>;
  /** Signal the process (its whole group when detached); harmless once it has exited. */
  kill(signal: NodeJS.Signals): void;
  /** The last lines it wrote to stderr (bounded), for the log when it ends unexpectedly. */
  stderrTail(): string[];
}

export interface RunOptions {
  /** SIGKILL it after this long; the result then says timedOut. */
  timeoutMs?: number;
  /** Written to its stdin, which is then closed. */
  input?: Buffer | string;
}

export interface RunResult extends ProcessExit {
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface ProcessRunner {
  /** Start a long-running process and hand back its streams. */
  spawn(spec: ProcessSpec): RunningProcess;
  /** Run a short command to completion and collect its output (never rejects: read `error` and `code`). */
  run(spec: ProcessSpec, options?: RunOptions): Promise<RunResult>;
}
