/**
 * Run counts of the property tests. The default keeps the fuzz files to a few seconds in `npm test`;
 * BODYCAM_LONG=1 (the long test run) multiplies every count by 25. FUZZ_SEED replays a reported failure.
 */
import type { Parameters } from 'fast-check';

export const LONG = process.env['BODYCAM_LONG'] === '1';
const SEED = process.env['FUZZ_SEED'];

export function runs<T>(n: number): Parameters<T> {
  return { numRuns: LONG ? n * 25 : n, ...(SEED === undefined ? {} : { seed: Number(SEED) }) };
}
