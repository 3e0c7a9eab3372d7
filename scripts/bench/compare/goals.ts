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
}

/** One line per goal missed; empty when all are met. */
export function missedGoals(goals: readonly Goal[]): string[] {
  return goals.flatMap((g) => {
    const limit = `goal ≤ ${g.atMost.toFixed(g.digits)}${g.unit}`;
    if (g.actual === null || !Number.isFinite(g.actual)) return [`goal missed: ${g.what} was not measured (${limit})`];
    if (g.actual <= g.atMost) return [];
    const over = g.actual - g.atMost;
    return [
      `goal missed: ${g.what} is ${g.actual.toFixed(g.digits)}${g.unit}, ${limit} (over by ${over.toFixed(g.digits)}${g.unit})`,
    ];
  });
}
