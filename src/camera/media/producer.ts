/**
 * The camera process whose stdout feeds ffmpeg (rpicam-vid). It runs in its own process group so a stop or a
 * stall kill reaches anything it forked, and an exited daemon does not leave the camera claimed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { ProducerCommand } from './sources.ts';

const STDERR_LINES = 40;

export interface ProducerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the spawn itself failed (e.g. ENOENT for a missing rpicam-vid). */
  error: Error | undefined;
}

export interface RunningProducer {
  readonly stdout: Readable;
  readonly exited: Promise<ProducerExit>;
  /** Signals the whole process group. */
  kill(signal: NodeJS.Signals): void;
  stderrTail(): string[];
}

export function startProducer(producer: ProducerCommand): RunningProducer {
  const child: ChildProcess = spawn(producer.command, producer.args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    tail.push(...lines);
    tail.splice(0, Math.max(0, tail.length - STDERR_LINES));
  });
  let spawnError: Error | undefined;
  const exited = new Promise<ProducerExit>((resolve) => {
    child.once('error', (e) => {
      spawnError = e;
      // A failed spawn emits no close when stdio never opened; settle here as well (resolve is idempotent).
      if (child.pid === undefined) resolve({ code: null, signal: null, error: e });
    });
    child.once('close', (code, signal) => resolve({ code, signal, error: spawnError }));
  });
  const stdout = child.stdout;
  if (stdout === null) throw new Error('spawn with stdio pipe gave no stdout'); // cannot happen with 'pipe'
  return {
    stdout,
    exited,
    kill(signal) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // ESRCH: the group is already gone, which is what we wanted.
      }
    },
    stderrTail: () => [...tail],
  };
}
