/**
 * The vault index's two drivers for tests that run on both (`describe.each(INDEX_DRIVERS)`): SQLite in a temp file,
 * and PostgreSQL in a throw-away PostgreSQL 15 cluster (postgres.ts), a fresh database per `open()`. `driverTest`
 * gives `it` for a driver that runs here, and a skip naming what is missing for one that does not, and starts and
 * stops the driver's server around the block.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { openPostgresIndex } from '../../src/vault/index/postgres.ts';
import { openSqliteIndex, type SqlClient } from '../../src/vault/index/sql.ts';
import { POSTGRES_MISSING, POSTGRES_SKIP, type PostgresCluster, startPostgres } from './postgres.ts';

/** One driver under test: `open()` gives a new, empty index. */
export interface Driver {
  name: string;
  /** Why its tests are skipped; empty when they run. */
  skip: string;
  setUp(): Promise<void>;
  open(): Promise<SqlClient>;
  tearDown(): Promise<void>;
}

export const sqlite: Driver = {
  name: 'SQLite',
  skip: '',
  setUp: async () => undefined,
  open: async () => openSqliteIndex(join(mkdtempSync(join(tmpdir(), 'vault-index-')), 'index.sqlite')),
  tearDown: async () => undefined,
};

let cluster: PostgresCluster | undefined;
export const postgres: Driver = {
  name: 'PostgreSQL',
  skip: POSTGRES_MISSING.length === 0 ? '' : POSTGRES_SKIP,
  async setUp() {
    cluster = await startPostgres();
  },
  async open() {
    if (cluster === undefined) throw new Error('the PostgreSQL cluster did not start');
    return openPostgresIndex(await cluster.createDatabase());
  },
  async tearDown() {
    await cluster?.stop();
  },
};

export const INDEX_DRIVERS: readonly Driver[] = [sqlite, postgres];

/** `it` for a driver that runs here (its server started before the block's tests, stopped after), else a named skip. */
export function driverTest(driver: Driver): (name: string, fn: () => Promise<void>, timeout?: number) => void {
  if (driver.skip !== '') return (name, fn) => it.skip(`${name} ${driver.skip}`, fn);
  beforeAll(() => driver.setUp(), 60_000);
  afterAll(() => driver.tearDown(), 30_000);
  return (name, fn, timeout) => it(name, fn, timeout);
}
