/**
 * systemd's notify protocol (docs/design.md §13) without a native addon: each message goes through the
 * `systemd-notify` tool, run through the process port, in order (a unit that uses it sets `NotifyAccess=all`, since
 * the tool is a child of the program). Shared by the camera daemon (READY, WATCHDOG, STATUS, STOPPING) and the dock
 * station (READY, STOPPING). Outside systemd (no NOTIFY_SOCKET) it sends nothing.
 */
import type { Logger } from '../../lib/logger.ts';
import { SerialQueue } from '../../lib/serial.ts';
import type { ProcessRunner } from '../process/port.ts';

export interface SdNotifierOptions {
  processes: ProcessRunner;
  logger: Logger;
  /** The environment systemd gave the program (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID). */
  env: Readonly<Record<string, string | undefined>>;
}

/** The ping interval for a watchdog of `usec` microseconds: half of it, as sd_watchdog_enabled(3) advises. */
export function pingEveryMs(env: Readonly<Record<string, string | undefined>>, pid: number): number | null {
  const usec = Number(env['WATCHDOG_USEC']);
  const forPid = env['WATCHDOG_PID'];
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SdNotifier {
  readonly #o: SdNotifierOptions;
  readonly #sending = new SerialQueue();

  constructor(options: SdNotifierOptions) {
    this.#o = options;
  }

  /** Whether systemd listens (the unit is Type=notify). */
  get enabled(): boolean {
    return this.socket !== '';
  }

  /** systemd's notify socket, handed to `systemd-notify` alone (children never inherit it). */
  get socket(): string {
    return this.#o.env['NOTIFY_SOCKET'] ?? '';
  }

  /** One systemd-notify call per message, queued in order; a failure is logged, never thrown. */
  send(...assignments: string[]): void {
    if (!this.enabled) return;
    this.#sending.push(
      async () => {
        const r = await this.#o.processes.run(
          { command: 'systemd-notify', args: assignments, env: { NOTIFY_SOCKET: this.socket } },
          { timeoutMs: 5000 },
        );
        if (r.error !== undefined || r.code !== 0) {
          this.#o.logger.warn(
            { assignments, code: r.code, stderr: r.stderr.trim(), error: r.error?.message },
            'systemd-notify failed',
          );
        }
      },
      (err) => this.#o.logger.warn({ assignments, err }, 'systemd-notify failed'),
    );
  }

  /** Resolves once every message sent so far has been handed over. */
  async flush(): Promise<void> {
    await this.#sending.idle();
  }
}
