/**
 * The comparison's goals: figures with an upper bound. A missed goal (or one not measured) makes the bench exit
 * non-zero with a line saying which and by how much, so a regression shows.
 */

export interface Goal {
  /** What is measured, e.g. "bodycam bytes written per standby hour". */
  what: string;
  actual: number | null;
  /** The most `actual` may be. */
  atMost: number;
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
    const limit = `goal ≤ ${g.atMost.toFixed(g.digits)}${g.unit}`;
    const head = g.enforced ? 'goal missed' : 'goal missed (reported, not enforced)';
    if (g.actual === null || !Number.isFinite(g.actual)) {
      return [{ line: `${head}: ${g.what} was not measured (${limit})`, enforced: g.enforced }];
    }
    if (g.actual <= g.atMost) return [];
    const over = g.actual - g.atMost;
    const line = `${head}: ${g.what} is ${g.actual.toFixed(g.digits)}${g.unit}, ${limit} (over by ${over.toFixed(g.digits)}${g.unit})`;
    return [{ line, enforced: g.enforced }];
  });
}
