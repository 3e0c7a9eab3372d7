/**
 * Whether the dock takes one more segment from a camera: a segment size cap, the camera's quota of what it has at
 * the dock, and the floor of free space the dock keeps on its disk. A pure decision, tested as a table; the caller
 * keeps the running state (what it admitted counts against the next offer).
 */
import { type DockLimits, MiB } from '../limits.ts';

export interface BudgetState {
  /** Bytes this camera has at the dock: stored, and reserved by its transfers under way or admitted. */
  cameraBytes: number;
  /** Free bytes on the dock's disk, less what every transfer under way or admitted will still write. */
  freeBytes: number;
}

export type BudgetCode = 'too-large' | 'over-quota' | 'dock-disk-full';
export type BudgetVerdict = { ok: true } | { code: BudgetCode; message: string };

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

/** May a segment of `bytes` be taken now? */
export function admit(bytes: number, limits: DockLimits, state: BudgetState): BudgetVerdict {
  if (bytes > limits.maxSegmentMiB * MiB) {
    return { code: 'too-large', message: `${mib(bytes)} MiB is over the ${limits.maxSegmentMiB} MiB segment limit` };
  }
  if (state.cameraBytes + bytes > limits.cameraQuotaMiB * MiB) {
    return {
      code: 'over-quota',
      message: `the camera would have ${mib(state.cameraBytes + bytes)} MiB here, over its ${limits.cameraQuotaMiB} MiB quota`,
    };
  }
  if (state.freeBytes - bytes < limits.minFreeMiB * MiB) {
    return {
      code: 'dock-disk-full',
      message: `the dock's disk would have ${mib(Math.max(0, state.freeBytes - bytes))} MiB free, under its ${limits.minFreeMiB} MiB floor`,
    };
  }
  return { ok: true };
}

/** The state after taking a segment of `bytes`. */
export function taken(state: BudgetState, bytes: number): BudgetState {
  return { cameraBytes: state.cameraBytes + bytes, freeBytes: state.freeBytes - bytes };
}
