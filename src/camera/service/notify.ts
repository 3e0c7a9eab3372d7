/**
 * systemd's notify protocol (docs/design.md §13) without a native addon: the `systemd-notify` tool, run through the
 * process port (the unit sets `NotifyAccess=all`, since the tool is a child of the daemon). READY=1 once the camera
 * is buffering (its capture delivered), WATCHDOG=1 at half of `WATCHDOG_USEC` while the capture is healthy, and
 * STOPPING=1 when it stops. A stalled or failing capture gets no pings, so systemd restarts a wedged camera; so does
 * a wedged event loop. Outside systemd (no NOTIFY_SOCKET) it does nothing.
 */
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import type { ProcessRunner } from '../../hal/process/port.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraBus, CameraEvents } from '../events.ts';

export interface NotifyOptions {
  bus: CameraBus;
  processes: ProcessRunner;
  clock: Clock;
  logger: Logger;
  /** The environment systemd gave the daemon (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID). */
  env: Readonly<Record<string, string | undefined>>;
  /** No fragment for this long: the capture is not healthy, whatever its state says (ms). */
  healthyWithinMs: number;
  /** The capture's state now (it may have started delivering before this part started). */
  captureState: () => string;
}

/** The ping interval for a watchdog of `usec` microseconds: half of it, as sd_watchdog_enabled(3) advises. */
export function pingEveryMs(env: Readonly<Record<string, string | undefined>>, pid: number): number | null {
  const usec = Number(env['WATCHDOG_USEC']);
  const forPid = env['WATCHDOG_PID'];
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

/** Whether the capture is healthy enough to vouch for: running, and a fragment arrived recently. */
export function captureHealthy(state: string, lastFragmentAt: number | null, now: number, withinMs: number): boolean {
  return state === 'running' && lastFragmentAt !== null && now - lastFragmentAt <= withinMs;
}

export class SystemdNotify {
  readonly #o: NotifyOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #timer: TimerHandle | null = null;
  #state = 'idle';
  #lastFragmentAt: number | null = null;
  #ready = false;
  #sending: Promise<void> = Promise.resolve();

  constructor(options: NotifyOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  get enabled(): boolean {
    return (this.#o.env['NOTIFY_SOCKET'] ?? '') !== '';
  }

  async start(): Promise<void> {
    if (!this.enabled) return;
    const { clock } = this.#o;
    const onState = (state: string) => {
      this.#state = state;
      if (state === 'running' && !this.#ready) {
        this.#ready = true;
        this.#lastFragmentAt ??= clock.now();
        this.#send('READY=1', 'STATUS=buffering');
      }
    };
    this.#subs.on('capture.state', ({ state }) => onState(state));
    onState(this.#o.captureState());
    this.#subs.on('capture.fragment', () => {
      this.#lastFragmentAt = clock.now();
    });
    this.#subs.on('recorder.state', ({ state }) => this.#send(`STATUS=${state}`));
    const every = pingEveryMs(this.#o.env, process.pid);
    if (every !== null) {
      this.#timer = clock.setInterval(() => {
        if (captureHealthy(this.#state, this.#lastFragmentAt, clock.now(), this.#o.healthyWithinMs))
          this.#send('WATCHDOG=1');
      }, every);
    }
  }

  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.#subs.clear();
    if (this.#timer !== null) this.#o.clock.clearInterval(this.#timer);
    this.#timer = null;
    this.#send('STOPPING=1');
    await this.#sending;
  }

  /** One systemd-notify call per message, in order; a failure is logged once per kind, never thrown. */
  #send(...assignments: string[]): void {
    this.#sending = this.#sending.then(async () => {
      const r = await this.#o.processes.run({ command: 'systemd-notify', args: assignments }, { timeoutMs: 5000 });
      if (r.error !== undefined || r.code !== 0) {
        this.#o.logger.warn(
          { assignments, code: r.code, stderr: r.stderr.trim(), error: r.error?.message },
          'systemd-notify failed',
        );
      }
    });
  }
}
