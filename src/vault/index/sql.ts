/**
 * The index's SQL port: run and query with `?` placeholders. The SQLite driver (better-sqlite3) is the embedded
 * default; a PostgreSQL driver (npm `pg`) runs the same statements, numbering the placeholders `$1…`.
 */
import BetterSqlite3 from 'better-sqlite3';

export type SqlParam = string | number | null;

export interface SqlClient {
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  close(): Promise<void>;
}

/** `?` placeholders numbered for PostgreSQL (`$1`, `$2`, …); the index's SQL holds no `?` inside literals. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export function openSqliteIndex(path: string): SqlClient {
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  return {
    async run(sql, params = []) {
      db.prepare(sql).run(...params);
    },
    async all<T>(sql: string, params: readonly SqlParam[] = []) {
      return db.prepare(sql).all(...params) as T[];
    },
    async close() {
      db.close();
    },
  };
}
