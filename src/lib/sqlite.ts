import { chmodSync, statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { BodycamError, ErrorCode } from './errors.ts';
import type { Migration } from './migration.ts';

export type SqlValue = string | number | bigint | Buffer | null;

/**
 * A database that records which release wrote it creates this table in one of its migrations and opens with
 * `release`: the key `release` then holds the release that last opened it for writing.
 */
export const META_TABLE = 'CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)';

export interface OpenOptions {
  migrations: readonly Migration[];
  readonly?: boolean;
  /**
   * This program's release: recorded in `meta` once migrated (when a migration made that table), and named beside
   * the release found there when the file's schema is newer than this release knows (a downgrade).
   */
  release?: string;
}

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
  static open(file: string, options: OpenOptions): Database {
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
      if (found > latest) throw newerSchema(db, file, found, latest, options.release);
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
      if (options.release !== undefined && hasMeta(db)) {
        db.prepare(
          "INSERT INTO meta (key, value) VALUES ('release', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ).run(options.release);
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

  /** The release that last opened this file for writing (null before any release recorded one). */
  writtenBy(): string | null {
    return hasMeta(this.#db) ? readRelease(this.#db) : null;
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

function hasMeta(db: BetterSqlite3.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
}

function readRelease(db: BetterSqlite3.Database): string | null {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'release'").get() as { value: string } | undefined;
  return row?.value ?? null;
}

/** A file from a newer release: refused (its rows may not mean what this release reads), naming both releases. */
function newerSchema(
  db: BetterSqlite3.Database,
  file: string,
  found: number,
  latest: number,
  release: string | undefined,
): BodycamError {
  let writer: string | null = null;
  try {
    writer = hasMeta(db) ? readRelease(db) : null;
  } catch {
    writer = null;
  }
  const by = writer === null ? 'a newer release' : `bodycam ${writer}`;
  const self = release === undefined ? 'this release' : `bodycam ${release}`;
  return new BodycamError(
    ErrorCode.STORAGE_INDEX,
    `the index ${file} was written by ${by} (schema ${found}); ${self} reads schema ${latest} at most, so it cannot ` +
      `open it (a downgrade): install ${writer === null ? 'the release that wrote it' : `bodycam ${writer}`} or a later one`,
    { file, found, latest, writtenBy: writer, release: release ?? null },
  );
}
