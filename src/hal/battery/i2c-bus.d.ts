/** The part of i2c-bus (5.x) the fuel-gauge driver uses; the package ships no types. */
declare module 'i2c-bus' {
  interface PromisifiedBus {
    readWord(address: number, command: number): Promise<number>;
    close(): Promise<void>;
  }
  export function openPromisified(busNumber: number): Promise<PromisifiedBus>;
}
