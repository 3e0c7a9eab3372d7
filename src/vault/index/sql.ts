/**
 * The index's SQL port: run and query with `?` placeholders, and run a group of statements as one transaction. The
 * SQLite driver (better-sqlite3, below) is the embedded default; the PostgreSQL driver (npm `pg`, postgres.ts) runs
 * the same statements, numbering the placeholders `$1…`. `dialect` names the driver for the few statements that
 * differ (schema.ts).
 */
import BetterSqlite3 from 'better-sqlite3';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';

export type SqlParam = string | number | null;
export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlClient {
  readonly dialect: SqlDialect;
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  all<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /**
   * Runs `fn` in one transaction on the client it is handed: committed when `fn` resolves, rolled back when it throws
   * (the error is rethrown). Statements inside go through that client only; transactions do not nest.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `?` placeholders numbered for PostgreSQL (`$1`, `$2`, …); the index's SQL holds no `?` inside literals. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * An integer column's value as a number, the same on both drivers: BIGINT is read exactly (a bigint from SQLite, text
 * from PostgreSQL) and a value beyond JavaScript's exact integers is an error, never rounded.
 */
export function exactInteger(value: bigint | string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || BigInt(n) !== BigInt(value))
    throw new BodycamError(ErrorCode.STORAGE_INDEX, `an integer in the index is beyond exact integers: ${value}`);
  return n;
}

function exactRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) if (typeof v === 'bigint') row[k] = exactInteger(v);
  return row;
}

/** What the client handed to a transaction refuses: nesting, and closing the index from inside. */
export function notInTransaction(what: 'nest' | 'close'): never {
  throw new BodycamError(
    ErrorCode.STORAGE_INDEX,
    what === 'nest'
      ? 'index transactions do not nest: use the client handed to the first'
      : 'the index is closed by its owner once the transaction has ended, not from inside it',
  );
}

/**
 * SQLite on one connection: while a transaction runs, statements from outside it wait for it to end (they would
 * otherwise land inside it), so a reader sees the index before or after a rebuild, never half of one.
 */
export function openSqliteIndex(path: string): SqlClient {
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = turn.then(fn, fn);
    turn = next.catch(() => undefined);
    return next;
  };
  const tx: SqlClient = {
    dialect: 'sqlite',
    async run(sql, params = []) {
      db.prepare(sql).run(...params);
    },
    async all<T>(sql: string, params: readonly SqlParam[] = []) {
      const rows = db
        .prepare(sql)
        .safeIntegers(true)
        .all(...params) as Record<string, unknown>[];
      return rows.map(exactRow) as T[];
    },
    transaction: async () => notInTransaction('nest'),
    close: async () => notInTransaction('close'),
  };
  return {
    dialect: 'sqlite',
    run: (sql, params) => inTurn(() => tx.run(sql, params)),
    all: <T>(sql: string, params?: readonly SqlParam[]) => inTurn(() => tx.all<T>(sql, params)),
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) =>
      inTurn(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(tx);
          db.exec('COMMIT');
          return result;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
      }),
    close: () =>
      inTurn(async () => {
        db.close();
      }),
  };
}
