/**
 * The managed Mosquitto: a supervised child process (its own process group, `-c <conf>`, a bounded stderr tail),
 * started through the process port and restarted with exponential backoff (on the Clock port) when it dies
 * unexpectedly. `start()` resolves once the broker is up: Mosquitto has said "running" (it opens the listening
 * socket before it loads the certificates, so an open port alone could be a broker about to fail) and the port
 * accepts a TCP connection.
 */
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import type { Clock, TimerHandle } from '../hal/clock/port.ts';
import type { ProcessExit, ProcessRunner, RunningProcess } from '../hal/process/port.ts';
import { stopProcess } from '../hal/process/supervision.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { mosquittoArgs } from './broker-config.ts';
import { dockLayout, loadDockConfig } from './layout.ts';

/** Restart delays: `initialMs` doubling per consecutive failure, at most `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** The delay before restart number `attempt` (0-based) of a run of failures. */
export function restartDelay(attempt: number, b: Backoff): number {
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.min(attempt, 30));
}

/** Does `host:port` accept a TCP connection (within `timeoutMs`)? */
export function tcpAccepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

export interface BrokerOptions {
  runner: ProcessRunner;
  clock: Clock;
  mosquittoPath: string;
  confFile: string;
  /** The listener mosquitto.conf declares; an unspecified bind address (0.0.0.0, ::) is probed on loopback. */
  bind: string;
  port: number;
  logger?: Logger;
  /** Readiness check (default: a TCP connect). */
  probe?: (host: string, port: number) => Promise<boolean>;
  /** start() gives up after this long (default 10 s). */
  startTimeoutMs?: number;
  /** Readiness poll period (default 100 ms). */
  pollMs?: number;
  /** Restart delays (default 1 s doubling to 60 s). */
  backoff?: Backoff;
  /** A broker up this long has its backoff reset (default 60 s). */
  stableMs?: number;
  /** SIGTERM, then SIGKILL after this long (default 5 s). */
  stopGraceMs?: number;
  /** Pids of running mosquittos started with this config file (default: read from /proc). */
  findBrokers?: (confFile: string) => Promise<number[]>;
}

/** Pids of the running mosquitto processes whose command line names `confFile` (read from /proc; [] elsewhere). */
export async function brokersUsing(confFile: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const args = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (path.basename(args[0] ?? '') === 'mosquitto' && args.includes(confFile)) pids.push(Number(name));
  }
  return pids;
}

const RUNNING = /mosquitto version \S+ running/;
/** What Mosquitto logs when a client's certificate fails verification (revoked, expired, or not from the dock's CA). */
export const REFUSED_CERTIFICATE = /OpenSSL Error.*certificate (verify failed|revoked)/;

/** A supervised Mosquitto. `start()` once, `stop()` once; `kill()` simulates a crash (it is restarted). */
export class MosquittoBroker {
  readonly #o: BrokerOptions;
  readonly #probeHost: string;
  #proc: RunningProcess | undefined;
  #startedAt = 0;
  #failures = 0;
  #restarts = 0;
  #restartTimer: TimerHandle | undefined;
  /** Set once start() succeeded, cleared by stop(): only then is an exit a crash to restart from. */
  #supervising = false;
  #up = false;
  /** The current mosquitto has logged that it is running. */
  #saidRunning = false;
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(options: BrokerOptions) {
    this.#o = options;
    this.#probeHost = options.bind === '0.0.0.0' ? '127.0.0.1' : options.bind === '::' ? '::1' : options.bind;
  }

  /** The running mosquitto's pid (undefined while it is down). */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** Restarts after unexpected exits so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Sends `signal` to the broker's process group (tests use it as a fault); an unexpected exit is restarted. */
  kill(signal: NodeJS.Signals): void {
    this.#proc?.kill(signal);
  }

  /**
   * Asks the running mosquitto to re-read its configuration, ACL and revocation list (SIGHUP): clients stay
   * connected; a withdrawn camera's certificate is refused from its next handshake. Nothing when it is down (a restart
   * reads them anyway).
   */
  reload(): void {
    this.#proc?.kill('SIGHUP');
  }

  /** Starts mosquitto and resolves once it is up; rejects (CONFIG_INVALID) quoting its stderr if it is not. */
  async start(): Promise<void> {
    if (this.#proc !== undefined || this.#supervising) throw new Error('MosquittoBroker.start() called twice');
    if (await (this.#o.probe ?? tcpAccepts)(this.#probeHost, this.#o.port)) throw await this.#portTaken();
    const proc = this.#spawn();
    try {
      await this.#waitReady(proc);
    } catch (e) {
      await stopProcess(proc, { clock: this.#o.clock, graceMs: this.#o.stopGraceMs ?? 5000 });
      this.#proc = undefined;
      throw e;
    }
    this.#supervising = true;
    this.#ready();
  }

  /** Resolves once the broker is up (at once if it is; after the pending restart if it is not). */
  whenReady(): Promise<void> {
    if (this.#up) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops supervising and ends mosquitto: SIGTERM, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.#supervising = false;
    this.#up = false;
    if (this.#restartTimer !== undefined) this.#o.clock.clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    for (const w of this.#waiters.splice(0)) w.reject(new Error('the broker was stopped'));
    const proc = this.#proc;
    if (proc === undefined) return;
    const exit = await stopProcess(proc, { clock: this.#o.clock, graceMs: this.#o.stopGraceMs ?? 5000 });
    this.#o.logger?.info({ code: exit.code, signal: exit.signal }, 'mosquitto stopped');
    this.#proc = undefined;
  }

  /** The port is already taken: by a broker of this dock left running (say which, and how to stop it), or another. */
  async #portTaken(): Promise<BodycamError> {
    const where = `${this.#probeHost}:${this.#o.port}`;
    const stale = await (this.#o.findBrokers ?? brokersUsing)(this.#o.confFile);
    const advice =
      stale.length > 0
        ? `a mosquitto of this dock is still running (pid ${stale.join(', ')}, -c ${this.#o.confFile}), left by a ` +
          `dock that was killed: stop it (\`kill ${stale.join(' ')}\`), then start the dock again`
        : 'another program listens there: stop it, or give this dock another port (dock.json port)';
    return new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `cannot start the dock's broker: ${where} is already in use; ${advice}`,
      {
        key: 'port',
        pids: stale,
      },
    );
  }

  #spawn(): RunningProcess {
    const proc = this.#o.runner.spawn({
      command: this.#o.mosquittoPath,
      args: mosquittoArgs(this.#o.confFile),
      detached: true,
      dieWithParent: true,
    });
    this.#proc = proc;
    this.#up = false;
    this.#saidRunning = false;
    this.#startedAt = this.#o.clock.now();
    proc.stdout.resume();
    let partial = '';
    proc.stderr.on('data', (chunk: Buffer | string) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = (lines.pop() ?? '').slice(-1000);
      for (const line of lines) {
        if (RUNNING.test(line) && proc === this.#proc) this.#saidRunning = true;
        if (line.trim() === '') continue;
        if (REFUSED_CERTIFICATE.test(line)) {
          this.#o.logger?.warn(
            { mosquitto: line },
            'the broker refused a client certificate (withdrawn, expired or from another CA)',
          );
        } else {
          this.#o.logger?.info({ mosquitto: line }, 'mosquitto');
        }
      }
    });
    void proc.exited.then((exit) => this.#onExit(proc, exit));
    return proc;
  }

  async #waitReady(proc: RunningProcess): Promise<void> {
    const deadline = this.#o.clock.now() + (this.#o.startTimeoutMs ?? 10_000);
    const probe = this.#o.probe ?? tcpAccepts;
    let exit: ProcessExit | undefined;
    void proc.exited.then((e) => {
      exit = e;
    });
    for (;;) {
      if (exit !== undefined) throw this.#failure(proc, describeExit(exit));
      if (this.#saidRunning && (await probe(this.#probeHost, this.#o.port)) && exit === undefined) return;
      if (this.#o.clock.now() >= deadline) {
        throw this.#failure(proc, `not accepting connections on ${this.#probeHost}:${this.#o.port} in time`);
      }
      await Promise.race([proc.exited, this.#sleep(this.#o.pollMs ?? 100)]);
    }
  }

  #failure(proc: RunningProcess, what: string): BodycamError {
    const tail = proc.stderrTail().filter((l) => l.trim() !== '');
    const quoted = tail.length > 0 ? `; it said:\n  ${tail.slice(-12).join('\n  ')}` : '';
    return new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `mosquitto (${this.#o.mosquittoPath} -c ${this.#o.confFile}) did not start: ${what}${quoted}`,
      { key: 'broker', stderr: tail },
    );
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#o.clock.setTimeout(resolve, ms));
  }

  #ready(): void {
    this.#up = true;
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  #onExit(proc: RunningProcess, exit: ProcessExit): void {
    if (proc !== this.#proc || !this.#supervising) return;
    this.#proc = undefined;
    this.#up = false;
    if (this.#o.clock.now() - this.#startedAt >= (this.#o.stableMs ?? 60_000)) this.#failures = 0;
    const delay = restartDelay(this.#failures, this.#o.backoff ?? { initialMs: 1000, maxMs: 60_000 });
    this.#failures += 1;
    this.#o.logger?.warn(
      { ...exit, error: exit.error?.message, stderr: proc.stderrTail(), restartInMs: delay },
      'mosquitto exited unexpectedly; restarting',
    );
    this.#restartTimer = this.#o.clock.setTimeout(() => this.#restart(), delay);
  }

  #restart(): void {
    this.#restartTimer = undefined;
    if (!this.#supervising) return;
    this.#restarts += 1;
    const proc = this.#spawn();
    this.#waitReady(proc).then(
      () => {
        if (proc !== this.#proc) return;
        this.#o.logger?.info({ pid: proc.pid, restarts: this.#restarts }, 'mosquitto is up again');
        this.#ready();
      },
      (e: unknown) => {
        // Not up in time but still running: kill it; its exit schedules the next attempt.
        this.#o.logger?.warn({ err: (e as Error).message }, 'restarted mosquitto did not come up');
        if (proc === this.#proc) proc.kill('SIGKILL');
      },
    );
  }
}

function describeExit(exit: ProcessExit): string {
  if (exit.error !== undefined) return `it could not be started (${exit.error.message})`;
  return exit.signal !== null ? `it was killed by ${exit.signal}` : `it exited with code ${exit.code}`;
}

/** Shared wiring for a dock directory's managed broker. */
export interface DockBrokerDeps {
  runner: ProcessRunner;
  clock: Clock;
  logger?: Logger;
}

/** The managed broker of DOCKDIR, from its dock.json and broker/mosquitto.conf; CONFIG_INVALID if it is external. */
export function dockBroker(dir: string, deps: DockBrokerDeps, extra: Partial<BrokerOptions> = {}): MosquittoBroker {
  const config = loadDockConfig(dir);
  if (config.broker !== 'managed') {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `${dockLayout(dir).config} says broker "${config.broker}": the site runs Mosquitto itself; nothing to start`,
      { key: 'broker' },
    );
  }
  return new MosquittoBroker({
    ...deps,
    mosquittoPath: config.mosquittoPath,
    confFile: dockLayout(dir).broker.conf,
    bind: config.bind,
    port: config.port,
    ...extra,
  });
}
