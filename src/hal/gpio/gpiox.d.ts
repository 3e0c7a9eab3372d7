/**
 * Types for the parts of @iiot2k/gpiox (2.1.x) that the gpiox driver uses; the package ships none. Its entry point
 * sets `module.exports` to the native addon (arm/arm64 only, an empty object elsewhere), so from ESM the functions
 * are reliably reachable only through the default export. Pins are BCM 2–27.
 */
declare module '@iiot2k/gpiox' {
  interface Gpiox {
    /** Claim a line. For inputs `setval` is the debounce in µs, for outputs the initial raw level. */
    init_gpio(pin: number, mode: number, setval: number | boolean): boolean;
    /** Claim an input and call back on each change; returns the current level, `undefined` on error. */
    watch_gpio(
      pin: number,
      mode: number,
      debounceUs: number,
      edge: number,
      callback: (state: number, edge: number, pin: number) => void,
    ): number | undefined;
    set_gpio(pin: number, value: number | boolean): boolean;
    get_gpio(pin: number): boolean | undefined;
    /** Release a line and stop its watcher. */
    deinit_gpio(pin: number): boolean;
    /** Text of the last error. */
    error_text(): string;
    readonly GPIO_MODE_INPUT_NOPULL: number;
    readonly GPIO_MODE_INPUT_PULLDOWN: number;
    readonly GPIO_MODE_INPUT_PULLUP: number;
    readonly GPIO_MODE_OUTPUT: number;
    readonly GPIO_EDGE_RISING: number;
    readonly GPIO_EDGE_FALLING: number;
    readonly GPIO_EDGE_BOTH: number;
  }
  const gpiox: Gpiox;

  export type { Gpiox };
  export default gpiox;
}
