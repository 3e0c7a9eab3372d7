import type { Config } from '../../config/schema.ts';
import type { GpioDriver } from '../../hal/gpio/port.ts';
import { Debouncer } from './debounce.ts';
import { EdgeTrigger, PressPatternDetector } from './patterns.ts';

export interface InputHandlers {
  /** The record button's start pattern, or a trigger line's edge. */
  start(trigger: string): void;
  /** The record button held for `controls.stopHoldMs`. */
  stop(reason: string): void;
  /** Dock contact changed. */
  dock(docked: boolean): void;
}

/**
 * Wires the configured input lines through debounce and press patterns to the camera's actions.
 * Raw driver edges → Debouncer → PressPatternDetector (record button) or EdgeTrigger (trigger and dock lines).
 */
export class OfficerInputs {
  readonly #disposers: Array<() => void> = [];

  static async open(gpio: GpioDriver, config: Config, handlers: InputHandlers): Promise<OfficerInputs> {
    const inputs = new OfficerInputs();
    const c = config.controls;
    const debounceMs = config.gpio.debounceMs;
    for (const [name, line] of Object.entries(config.gpio.inputs)) {
      const spec = { name, pin: line.pin, activeLow: line.activeLow, pull: line.pull };
      if (name === c.recordInput) {
        const detector = new PressPatternDetector({
          config: { startPattern: c.startPattern, multiPressWindowMs: c.multiPressWindowMs, holdMs: c.stopHoldMs },
          onPattern: (e) => {
            if (e.start) handlers.start('button');
            else if (e.pattern === 'hold') handlers.stop('button-hold');
          },
        });
        const debouncer = new Debouncer({ debounceMs, onStable: (active, atMs) => detector.edge(active, atMs) });
        inputs.#disposers.push(() => {
          debouncer.dispose();
          detector.reset();
        });
        await gpio.openInput(spec, (active, atMs) => debouncer.input(active, atMs));
      } else if (c.triggerInputs.includes(name)) {
        const trigger = new EdgeTrigger({
          edge: c.triggerEdge,
          debounceMs,
          onEdge: () => handlers.start(`line:${name}`),
        });
        inputs.#disposers.push(() => trigger.dispose());
        await gpio.openInput(spec, (active, atMs) => trigger.input(active, atMs));
      } else if (name === c.dockInput) {
        const dock = new EdgeTrigger({ edge: 'both', debounceMs, onEdge: (active) => handlers.dock(active) });
        inputs.#disposers.push(() => dock.dispose());
        await gpio.openInput(spec, (active, atMs) => dock.input(active, atMs));
      }
    }
    return inputs;
  }

  stop(): void {
    for (const dispose of this.#disposers.splice(0)) dispose();
  }
}
