/**
 * The index on PostgreSQL (npm `pg`), for a central tier that outgrows one SQLite file: the same statements as the
 * SQLite driver (sql.ts), with `?` numbered `$1…`, over a small pool of connections. A transaction holds one
 * connection of the pool from BEGIN to COMMIT; other statements run on the others and see the rows committed before
 * it (PostgreSQL's READ COMMITTED), so a reader sees the index before or after a rebuild, never half of one.
 *
 * BIGINT (int8) comes back as a number, as from SQLite, not as the string `pg` returns by default; a value beyond
 * JavaScript's exact integers is an error, never rounded. Every failure is a BodycamError naming the server (host and
 * port, or the unix socket), the database and the user; never the password.
 */
import pg from 'pg';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import { exactInteger, notInTransaction, numberPlaceholders, type SqlClient, type SqlParam } from './sql.ts';

export interface PostgresIndexOptions {
  /** Host name or address, or the directory of the server's unix socket (an absolute path). */
  host: string;
  /** Default 5432. */
  port?: number;
  database: string;
  user: string;
  /** Never logged or named in an error. Default: none (trust, peer or a ~/.pgpass entry). */
  password?: string;
  /** Connections in the pool (default 4). */
  maxConnections?: number;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
}

const INT8_OID = 20;

/** Where the index is, for messages: `host:port` or the socket file, the database and the user. */
export function postgresTarget(o: PostgresIndexOptions): string {
  const port = o.port ?? 5432;
  const where = o.host.startsWith('/')
    ? `${o.host}/.s.PGSQL.${port}`
    : `${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  return `${where} (database ${o.database}, user ${o.user})`;
}

/** What went wrong, in one line: each address tried when the connection failed on several, the SQLSTATE otherwise. */
function reason(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.map(reason).join('; ');
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
}

/** Opens the pool and checks the server answers; a server that cannot be reached is a BodycamError naming it. */
export async function openPostgresIndex(o: PostgresIndexOptions): Promise<SqlClient> {
  const target = postgresTarget(o);
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, exactInteger);
  const pool = new pg.Pool({
    host: o.host,
    port: o.port ?? 5432,
    database: o.database,
    user: o.user,
    ...(o.password === undefined ? {} : { password: o.password }),
    max: o.maxConnections ?? 4,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
    types,
  });
  // An idle connection that breaks (server restart, network) is dropped by the pool; the next statement opens a new
  // one or fails with an error naming the server. Without a listener the pool's 'error' event would end the process.
  pool.on('error', () => undefined);
  const failed = (e: unknown, sql?: string) =>
    new BodycamError(
      ErrorCode.STORAGE_INDEX,
      `the PostgreSQL index at ${target}: ${reason(e)}`,
      sql === undefined ? {} : { sql },
      { cause: e },
    );
  const on = (q: pg.Pool | pg.PoolClient) => ({
    async run(sql: string, params: readonly SqlParam[] = []) {
      await q.query(numberPlaceholders(sql), [...params]).catch((e: unknown) => Promise.reject(failed(e, sql)));
    },
    async all<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
      const r = await q
        .query(numberPlaceholders(sql), [...params])
        .catch((e: unknown) => Promise.reject(failed(e, sql)));
      return r.rows as T[];
    },
  });

  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new BodycamError(
      ErrorCode.STORAGE_INDEX,
      `cannot reach the PostgreSQL index at ${target}: ${reason(e)}`,
      { host: o.host, port: o.port ?? 5432 },
      { cause: e },
    );
  }

  return {
    dialect: 'postgres',
    ...on(pool),
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const conn = await pool.connect().catch((e: unknown) => Promise.reject(failed(e)));
      const tx: SqlClient = {
        dialect: 'postgres',
        ...on(conn),
        transaction: async () => notInTransaction('nest'),
        close: async () => notInTransaction('close'),
      };
      let broken: unknown;
      try {
        await tx.run('BEGIN');
        const result = await fn(tx);
        await tx.run('COMMIT');
        return result;
      } catch (e) {
        // A connection whose ROLLBACK fails is in an unknown state: the pool closes it instead of reusing it.
        await conn.query('ROLLBACK').catch((r: unknown) => {
          broken = r;
        });
        throw e;
      } finally {
        conn.release(broken instanceof Error ? broken : undefined);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
