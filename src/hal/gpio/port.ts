/**
 * The GPIO port. Drivers: `sim` (tests, demo), `onoff` (sysfs), `gpiox` (@iiot2k/gpiox, character device).
 * Levels are logical: `true` means active (pressed, LED lit), whatever the wiring's polarity.
 */

export type Pull = 'up' | 'down' | 'none';

export interface InputLineSpec {
  /** Name used in config and by `bodycam ctl press` (e.g. `record`, `trigger`, `dock`). */
  name: string;
  /** BCM line number (0–27 on the 40-pin header). */
  pin: number;
  /** Wired so that a low level means active (button to ground with pull-up). */
  activeLow: boolean;
  pull: Pull;
}

export interface OutputLineSpec {
  name: string;
  pin: number;
  activeLow: boolean;
}

/** Called on every raw edge, before debounce. `atMs` is a monotonic millisecond clock. */
export type EdgeHandler = (active: boolean, atMs: number) => void;

export interface GpioDriver {
  readonly kind: 'sim' | 'onoff' | 'gpiox';
  /** Start watching an input; the handler sees raw (undebounced) edges. */
  openInput(spec: InputLineSpec, onEdge: EdgeHandler): Promise<void>;
  /** Claim an output and return its setter. */
  openOutput(spec: OutputLineSpec): Promise<(active: boolean) => void>;
  /** Release every line, remove every watcher. */
  close(): Promise<void>;
}
