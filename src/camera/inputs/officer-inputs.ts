import type { Clock } from '../../hal/clock/port.ts';
import type { GpioDriver, Pull } from '../../hal/gpio/port.ts';
import type { CameraBus } from '../events.ts';
import { Debouncer } from './debounce.ts';
import { isWantedEdge, type Pattern, PressPatternDetector } from './patterns.ts';

export interface InputLine {
  pin: number;
  activeLow: boolean;
  pull: Pull;
}

export interface InputRoles {
  /** The record button: its start pattern starts, a hold stops. */
  recordInput: string;
  startPattern: Pattern;
  multiPressWindowMs: number;
  stopHoldMs: number;
  /** Auxiliary lines (holster sensor and the like) that start recording on `triggerEdge`. */
  triggerInputs: readonly string[];
  triggerEdge: 'rising' | 'falling' | 'both';
  /** The dock sense line. */
  dockInput: string;
  /** A press starts a silent activation (no spoken warning) with `silentReason`; a hold toggles stealth. */
  silentInput: string;
  silentReason: string;
  stealthHoldMs: number;
}

export interface OfficerInputsOptions {
  bus: CameraBus;
  gpio: GpioDriver;
  lines: Readonly<Record<string, InputLine>>;
  roles: InputRoles;
  debounceMs: number;
  clock: Clock;
}

/**
 * The officer's inputs: raw driver edges → Debouncer → PressPatternDetector (record button) or the wanted edge
 * (trigger and dock lines) → `command.start`, `command.stop` and `dock.changed` on the bus; every accepted level
 * change is also published as `input.level`.
 */
export class OfficerInputs {
  readonly #o: OfficerInputsOptions;
  readonly #disposers: Array<() => void> = [];

  constructor(options: OfficerInputsOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const { bus, gpio, debounceMs, clock } = this.#o;
    for (const [name, line] of Object.entries(this.#o.lines)) {
      const act = this.#actionFor(name);
      const debouncer = new Debouncer({
        debounceMs,
        clock,
        onStable: (active, atMs) => {
          bus.emit('input.level', { input: name, active, atMs });
          act(active, atMs);
        },
      });
      this.#disposers.push(() => debouncer.dispose());
      const spec = { name, pin: line.pin, activeLow: line.activeLow, pull: line.pull };
      await gpio.openInput(spec, (active, atMs) => debouncer.input(active, atMs));
    }
  }

  /** What a debounced level change on the line `name` does. */
  #actionFor(name: string): (active: boolean, atMs: number) => void {
    const { bus, roles, clock } = this.#o;
    if (name === roles.recordInput) {
      const detector = new PressPatternDetector({
        config: {
          startPattern: roles.startPattern,
          multiPressWindowMs: roles.multiPressWindowMs,
          holdMs: roles.stopHoldMs,
        },
        clock,
        onPattern: (e) => {
          if (e.start) bus.emit('command.start', { trigger: 'button' });
          else if (e.pattern === 'hold') bus.emit('command.stop', { reason: 'button-hold' });
        },
      });
      this.#disposers.push(() => detector.reset());
      return (active, atMs) => detector.edge(active, atMs);
    }
    if (roles.triggerInputs.includes(name)) {
      return (active) => {
        if (isWantedEdge(roles.triggerEdge, active)) bus.emit('command.start', { trigger: `line:${name}` });
      };
    }
    if (name === roles.dockInput) return (active) => bus.emit('dock.changed', { docked: active });
    if (name === roles.silentInput) {
      const detector = new PressPatternDetector({
        config: { startPattern: 'single', multiPressWindowMs: roles.multiPressWindowMs, holdMs: roles.stealthHoldMs },
        clock,
        onPattern: (e) => {
          if (e.pattern === 'single')
            bus.emit('command.start', { trigger: `line:${name}`, silent: roles.silentReason });
          else if (e.pattern === 'hold') bus.emit('command.stealth', { from: `line:${name}` });
        },
      });
      this.#disposers.push(() => detector.reset());
      return (active, atMs) => detector.edge(active, atMs);
    }
    return () => undefined;
  }

  async stop(): Promise<void> {
    for (const dispose of this.#disposers.splice(0)) dispose();
  }
}
