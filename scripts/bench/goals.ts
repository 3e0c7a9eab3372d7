/**
 * The benches' goals (issue 23: a camera that sips): figures with a bound, each a ratio to a floor or a peer measured
 * in the same run, or a count. A missed goal (or one not measured) makes the bench exit non-zero with a line saying
 * which and by how much, so a regression shows. The bounds live here, once, for every bench that checks one.
 */

/** The bounds. Loosening one is a decision for docs/benchmarks.md, never a way to make a bench pass. */
export const GOALS = {
  /** bodycam's controller CPU per hour of footage, as a ratio to the ffmpeg segment_wrap controller's (comparison). */
  controllerCpuVsPeer: 1,
  /** bodycam's whole tree (controller + capture) CPU per hour, as a ratio to segment_wrap's tree (comparison). */
  treeCpuVsPeer: 1,
  /** Activation → durable pre-roll over its floor (seal + write + fsync of the same bytes): activation bench. */
  activationVsFloor: 1.25,
  /** The same in the comparison, where four recorders share the machine. */
  activationVsFloorCompare: 1.5,
  /** The daemon's RSS budget: this many bytes plus `memoryPerPrerollByte` × the ring's bytes (bench:memory). */
  memoryBaseBytes: 80e6,
  memoryPerPrerollByte: 1.3,
  /** Bytes written to storage per hour of standby (comparison, card.ts). */
  standbyBytesPerHour: 0,
  /** Bytes written while recording per byte of footage kept (comparison, card.ts). */
  writeAmplification: 1.02,
  /** Dock sync throughput as a ratio to the broker's bare publish → subscribe of the same payloads (sync bench). */
  syncVsBare: 0.9,
  /** The start guard's check of a release (signature, walk, hashes) as a ratio to reading its files: guard bench. */
  guardCheckVsRead: 4,
} as const;

export interface Goal {
  /** What is measured, e.g. "bodycam bytes written per standby hour". */
  what: string;
  actual: number | null;
  /** The most `actual` may be. */
  atMost?: number;
  /** The least `actual` may be. */
  atLeast?: number;
  unit: string;
  digits: number;
  /** Whether missing it fails the bench; a goal not enforced is reported all the same. */
  enforced: boolean;
}

export interface Miss {
  line: string;
  enforced: boolean;
}

/** One line per goal missed; empty when all are met. */
export function missedGoals(goals: readonly Goal[]): Miss[] {
  return goals.flatMap((g) => {
    const n = (x: number) => `${x.toFixed(g.digits)}${g.unit}`;
    const bounds = [
      ...(g.atLeast === undefined ? [] : [`≥ ${n(g.atLeast)}`]),
      ...(g.atMost === undefined ? [] : [`≤ ${n(g.atMost)}`]),
    ];
    const limit = `goal ${bounds.join(' and ')}`;
    const head = g.enforced ? 'goal missed' : 'goal missed (reported, not enforced)';
    if (g.actual === null || !Number.isFinite(g.actual)) {
      return [{ line: `${head}: ${g.what} was not measured (${limit})`, enforced: g.enforced }];
    }
    let by: string | null = null;
    if (g.atMost !== undefined && g.actual > g.atMost) by = `over by ${n(g.actual - g.atMost)}`;
    if (g.atLeast !== undefined && g.actual < g.atLeast) by = `short by ${n(g.atLeast - g.actual)}`;
    if (by === null) return [];
    return [{ line: `${head}: ${g.what} is ${n(g.actual)}, ${limit} (${by})`, enforced: g.enforced }];
  });
}

/**
 * Prints each missed goal to stderr as "BENCH: goal missed: …" and a summary line to stdout, and sets a non-zero
 * exit status when an enforced one is missed. `extra`: further misses found by the bench itself (cross-checks).
 */
export function reportGoals(bench: string, goals: readonly Goal[], extra: readonly Miss[] = []): Miss[] {
  const missed = [...missedGoals(goals), ...extra];
  for (const m of missed) process.stderr.write(`${bench}: ${m.line}\n`);
  const failing = missed.filter((m) => m.enforced).length;
  process.stdout.write(
    `${bench}: goals: ${goals.length - missedGoals(goals).length} of ${goals.length} met` +
      (failing > 0 ? `; ${failing} enforced miss${failing === 1 ? '' : 'es'}: exit status 1\n` : '\n'),
  );
  if (failing > 0) process.exitCode = 1;
  return missed;
}
