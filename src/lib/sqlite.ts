import { chmodSync, statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { BodycamError, ErrorCode } from './errors.ts';
import type { Migration } from './migration.ts';

export type SqlValue = string | number | bigint | Buffer | null;

/**
 * A SQLite database (WAL, synchronous=FULL: the camera's index and the dock's progress are evidence metadata).
 * Opening it runs the numbered migrations the file has not had yet (`PRAGMA user_version`), each in its own
 * transaction, so a database written by any earlier release upgrades in place and keeps its rows.
 */
export class Database {
  readonly #db: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  /** Schema version after opening. */
  readonly version: number;

  private constructor(db: BetterSqlite3.Database, version: number) {
    this.#db = db;
    this.version = version;
  }

  /**
   * Opens (creating if needed) and migrates. `readonly` opens beside a running daemon without migrating; it refuses
   * a file whose schema is not the current one, since its rows would not mean what this release reads them as.
   */
  static open(file: string, options: { migrations: readonly Migration[]; readonly?: boolean }): Database {
    const { migrations } = options;
    const latest = migrations.at(-1)?.version ?? 0;
    let db: BetterSqlite3.Database;
    try {
      db =
        options.readonly === true
          ? new BetterSqlite3(file, { readonly: true, fileMustExist: true })
          : new BetterSqlite3(file);
      db.pragma('busy_timeout = 5000');
    } catch (e) {
      throw new BodycamError(
        ErrorCode.STORAGE_INDEX,
        `cannot open the index ${file}: ${(e as Error).message}`,
        { file },
        { cause: e },
      );
    }
    try {
      const found = db.pragma('user_version', { simple: true }) as number;
      if (found > latest) {
        throw new BodycamError(
          ErrorCode.STORAGE_INDEX,
          `the index ${file} has schema version ${found}, newer than this release knows (${latest}); install the release that wrote it or a later one`,
          { file, found, latest },
        );
      }
      if (options.readonly === true) {
        if (found !== latest) {
          throw new BodycamError(
            ErrorCode.STORAGE_INDEX,
            `the index ${file} has schema version ${found}; this release reads ${latest}. Start the camera (bodycam run) once to upgrade it`,
            { file, found, latest },
          );
        }
        return new Database(db, found);
      }
      // Only its owner reads it (its WAL and shared-memory files take the same mode from it).
      const { mode, uid } = statSync(file);
      if ((mode & 0o077) !== 0 && uid === process.getuid?.()) chmodSync(file, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      for (const m of migrations) {
        if (m.version <= found) continue;
        db.transaction(() => {
          m.up(db);
          db.pragma(`user_version = ${m.version}`);
        })();
      }
      return new Database(db, latest);
    } catch (e) {
      db.close();
      if (e instanceof BodycamError) throw e;
      throw new BodycamError(
        ErrorCode.STORAGE_INDEX,
        `cannot open the index ${file}: ${(e as Error).message}`,
        { file },
        { cause: e },
      );
    }
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  /** One write through a cached statement; SQLite failures become STORAGE_FULL or STORAGE_INDEX. */
  run(sql: string, ...params: SqlValue[]): BetterSqlite3.RunResult {
    const stmt = this.#statement(sql);
    return this.guard(() => stmt.run(...params));
  }

  all<T>(sql: string, ...params: SqlValue[]): T[] {
    const stmt = this.#statement(sql);
    return this.guard(() => stmt.all(...params) as T[]);
  }

  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    const stmt = this.#statement(sql);
    return this.guard(() => stmt.get(...params) as T | undefined);
  }

  /** Runs `fn` in one transaction: one commit (one fsync) for all its writes. */
  transaction<T>(fn: () => T): T {
    return this.guard(() => this.#db.transaction(fn)());
  }

  /** SQLite's own consistency check; 'ok' when the file is sound. */
  integrityCheck(): string {
    return this.#db.pragma('integrity_check', { simple: true }) as string;
  }

  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof BetterSqlite3.SqliteError)) throw e;
      // A full disk must reach the officer as such; it is not a corrupt index.
      const full = e.code === 'SQLITE_FULL';
      throw new BodycamError(
        full ? ErrorCode.STORAGE_FULL : ErrorCode.STORAGE_INDEX,
        `${full ? 'storage is full; the index' : 'the index'} could not be written: ${e.message}`,
        { sqlite: e.code },
        { cause: e },
      );
    }
  }

  #statement(sql: string): BetterSqlite3.Statement {
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      stmt = this.guard(() => this.#db.prepare(sql));
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }
}
