/**
 * Reads the fuel gauge at a fixed interval and acts on `decidePower`: the level goes on the bus (status, the
 * officer's feedback and the event log follow it); at critical, an open recording is stopped with the reason
 * `power-low` and its closing manifest awaited (bounded), then the system is asked to power off through the process
 * port (`systemctl poweroff` by default), so the last footage is closed and signed before the power goes.
 */
import type { BatteryReading, FuelGauge } from '../../hal/battery/port.ts';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import type { ProcessRunner } from '../../hal/process/port.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import type { BatteryLevel, CameraBus, CameraEvents, RecorderState } from '../events.ts';
import { decidePower, INITIAL_POWER, type PowerMemory, type PowerThresholds } from './decide.ts';

export interface BatteryMonitorOptions {
  bus: CameraBus;
  gauge: FuelGauge;
  thresholds: PowerThresholds;
  pollMs: number;
  /** Command and arguments that power the system off. */
  shutdownCommand: readonly string[];
  /** How long to wait for an open recording's closing manifest before powering off anyway. */
  closeTimeoutMs: number;
  recorderState: () => RecorderState;
  processes: ProcessRunner;
  clock: Clock;
  logger: Logger;
}

export interface BatteryStatus {
  gauge: string;
  level: BatteryLevel;
  percent: number | null;
  volts: number | null;
  /** Wall-clock time of the last good reading. */
  at: string | null;
  /** Readings that failed since start. */
  readFailures: number;
  shutdownRequested: boolean;
}

export class BatteryMonitor {
  readonly #o: BatteryMonitorOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #memory: PowerMemory = INITIAL_POWER;
  #timer: TimerHandle | null = null;
  #busy: Promise<void> = Promise.resolve();
  #last: BatteryReading | null = null;
  #at: string | null = null;
  #failures = 0;
  #shutdown = false;
  #stopped = false;

  constructor(options: BatteryMonitorOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  status(): BatteryStatus {
    return {
      gauge: this.#o.gauge.kind,
      level: this.#memory.level,
      percent: this.#last === null ? null : Math.round(this.#last.percent * 10) / 10,
      volts: this.#last === null ? null : Math.round(this.#last.volts * 1000) / 1000,
      at: this.#at,
      readFailures: this.#failures,
      shutdownRequested: this.#shutdown,
    };
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.poll();
    this.#timer = this.#o.clock.setInterval(() => {
      void this.poll();
    }, this.#o.pollMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) this.#o.clock.clearInterval(this.#timer);
    this.#timer = null;
    this.#subs.clear();
    await this.#busy;
    await this.#o.gauge.close();
  }

  /** One reading and what follows from it; polls never overlap. */
  poll(): Promise<void> {
    this.#busy = this.#busy
      .then(() => this.#poll())
      .catch((err: unknown) => {
        this.#o.logger.error({ err }, 'battery check failed');
      });
    return this.#busy;
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    let reading: BatteryReading | null = null;
    try {
      reading = await this.#o.gauge.read();
      this.#last = reading;
      this.#at = new Date(this.#o.clock.wallNow()).toISOString();
    } catch (err) {
      this.#failures += 1;
      if (this.#failures === 1 || this.#failures % 30 === 0)
        this.#o.logger.warn({ err, failures: this.#failures }, 'the fuel gauge could not be read');
    }
    const recording = this.#o.recorderState() !== 'buffering';
    const d = decidePower(this.#memory, reading, recording, this.#o.thresholds);
    const changed = d.memory.level !== this.#memory.level;
    this.#memory = d.memory;
    if (reading !== null) this.#o.bus.emit('health.battery', { level: d.memory.level, ...reading, changed });
    if (changed) this.#o.logger.warn({ level: d.memory.level, ...reading, cause: d.cause }, 'battery level changed');
    for (const step of d.steps) {
      if (step === 'close-recording') await this.#closeRecording();
      if (step === 'shutdown') await this.#powerOff(d.cause ?? 'charge');
    }
  }

  /** Stop with reason power-low and wait (bounded) for the incident's closing manifest. */
  async #closeRecording(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      let incident: string | null = null;
      const timer = this.#o.clock.setTimeout(() => {
        this.#o.logger.error({ incident }, 'the recording did not close in time; powering off anyway');
        resolve();
      }, this.#o.closeTimeoutMs);
      this.#subs.on('incident.closed', ({ id }) => {
        incident = id;
      });
      this.#subs.on('manifest.written', ({ kind, incidentId }) => {
        if (kind === 'incident' && incidentId === incident) {
          this.#o.clock.clearTimeout(timer);
          resolve();
        }
      });
    });
    this.#o.bus.emit('command.stop', { reason: 'power-low' });
    await closed;
  }

  async #powerOff(cause: 'charge' | 'voltage'): Promise<void> {
    if (this.#shutdown) return;
    this.#shutdown = true;
    const [command = 'systemctl', ...args] = this.#o.shutdownCommand;
    const reason = cause === 'voltage' ? 'battery at its cutoff voltage' : 'battery charge critical';
    this.#o.bus.emit('power.shutdown', { reason, command: this.#o.shutdownCommand });
    this.#o.logger.warn({ reason, command: this.#o.shutdownCommand, ...this.#last }, 'asking the system to power off');
    const r = await this.#o.processes.run({ command, args }, { timeoutMs: 30_000 });
    if (r.code !== 0) {
      this.#o.logger.error(
        { code: r.code, signal: r.signal, stderr: r.stderr.slice(-500), error: r.error?.message },
        'the power-off command failed',
      );
    }
  }
}
