import type BetterSqlite3 from 'better-sqlite3';

/**
 * One numbered step of the index schema. Steps only ever add: a released step is never edited, since cameras in
 * the field have already run it. Each runs in a transaction with the version bump, and each has a test on a
 * database written by the release before it (test/integration/camera/upgrade-0.1.0.test.ts).
 */
export interface Migration {
  version: number;
  name: string;
  up(db: BetterSqlite3.Database): void;
}
