/**
 * A throw-away PostgreSQL 15 cluster for integration tests (~2 s to start): `initdb` in a temp directory, then the
 * postmaster in the foreground on a free loopback port and a unix socket in that directory, trust authentication for
 * one superuser. PostgreSQL refuses to run as root, so as root every command runs as the `postgres` user that
 * Debian's package creates (through `setpriv`); the postmaster runs under `setpriv --pdeathsig KILL`, so a test
 * process that dies takes it along. `stop()` asks for a fast shutdown (SIGINT), SIGKILLs after 10 s, and removes the
 * directory. The cluster's default collation is ICU's en-US, as a production database's may be a language's.
 *
 * ```ts
 * const describePg = describe.skipIf(POSTGRES_MISSING.length > 0);
 * let pg: PostgresCluster;
 * beforeAll(async () => { pg = await startPostgres(); }, 60_000);
 * afterAll(() => pg?.stop());
 * const db = await openPostgresIndex(await pg.createDatabase());   // a fresh database per test
 * ```
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { PostgresIndexOptions } from '../../src/vault/index/postgres.ts';
import { which } from './tools.ts';

/** Where Debian's postgresql-15 puts its server programs (not on PATH). */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
const OWNER = 'postgres';
const SUPERUSER = 'bodycam';
const READY = 'database system is ready to accept connections';

const asRoot = process.getuid?.() === 0;

function missing(): string[] {
  const out: string[] = [];
  for (const p of ['initdb', 'postgres']) {
    try {
      accessSync(path.join(POSTGRES_BIN, p), constants.X_OK);
    } catch {
      out.push(path.join(POSTGRES_BIN, p));
    }
  }
  if (which('setpriv') === null) out.push('setpriv');
  if (asRoot && spawnSync('id', ['-u', OWNER]).status !== 0) out.push(`the ${OWNER} user`);
  return out;
}

/** What the cluster needs that is not installed (scripts/setup.sh installs postgresql-15). */
export const POSTGRES_MISSING = missing();
/** Why PostgreSQL tests are skipped, for the test name. */
export const POSTGRES_SKIP = `(skipped: ${POSTGRES_MISSING.join(', ')} missing; scripts/setup.sh installs postgresql-15)`;

export interface PostgresCluster {
  dir: string;
  /** The loopback TCP port; the unix socket is `<dir>/.s.PGSQL.<port>`. */
  port: number;
  /** Milliseconds from initdb to a postmaster that accepts connections. */
  startMs: number;
  /** Connection options for `database` (default `postgres`) over TCP on 127.0.0.1. */
  options(database?: string): PostgresIndexOptions;
  /** A new empty database; its connection options. */
  createDatabase(): Promise<PostgresIndexOptions>;
  /** Ends the postmaster and removes the directory. */
  stop(): Promise<void>;
}

/** argv that runs `command` as the cluster's owner (the current user unless root). */
function asOwner(command: string, args: string[], pdeathsig = false): [string, string[]] {
  const drop = asRoot ? [`--reuid=${OWNER}`, `--regid=${OWNER}`, '--init-groups'] : [];
  const death = pdeathsig ? ['--pdeathsig', 'KILL'] : [];
  return ['setpriv', [...drop, ...death, path.join(POSTGRES_BIN, command), ...args]];
}

function run(command: string, args: string[]): void {
  const [cmd, argv] = asOwner(command, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim()}`);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Starts the postmaster; resolves once it accepts connections, rejects with its log's tail if it ends first. */
function postmaster(dir: string, port: number, timeoutMs: number): Promise<ChildProcess> {
  const settings = [
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${dir}`,
    'fsync=off',
    'logging_collector=off',
  ];
  const [cmd, argv] = asOwner('postgres', ['-D', path.join(dir, 'data'), '-p', String(port)], true);
  const child = spawn(cmd, [...argv, ...settings.flatMap((s) => ['-c', s])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`postgres ${why}: ${log.trim().split('\n').slice(-5).join(' | ')}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log += chunk;
      if (log.includes(READY)) {
        clearTimeout(timer);
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        resolve(child);
      }
    });
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
  });
}

function ended(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startPostgres(o: { startTimeoutMs?: number } = {}): Promise<PostgresCluster> {
  const t0 = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-pg-'));
  try {
    if (asRoot) {
      const id = (flag: string) => Number(spawnSync('id', [flag, OWNER], { encoding: 'utf8' }).stdout.trim());
      chownSync(dir, id('-u'), id('-g'));
    }
    run('initdb', [
      ...['-D', path.join(dir, 'data'), '-U', SUPERUSER, '--auth=trust', '--no-sync', '--encoding=UTF8'],
      ...['--locale=C.UTF-8', '--locale-provider=icu', '--icu-locale=en-US', '--no-instructions'],
    ]);
    let child: ChildProcess | undefined;
    let port = 0;
    // The free port is free when asked, not always when bound: another process may take it in between.
    for (let attempt = 1; child === undefined; attempt += 1) {
      port = await freePort();
      try {
        child = await postmaster(dir, port, o.startTimeoutMs ?? 30_000);
      } catch (e) {
        if (attempt >= 3 || !String(e).includes('could not bind')) throw e;
      }
    }
    const postmasterProcess = child;
    const options = (database = 'postgres'): PostgresIndexOptions => ({
      host: '127.0.0.1',
      port,
      database,
      user: SUPERUSER,
    });
    let databases = 0;
    return {
      dir,
      port,
      startMs: performance.now() - t0,
      options,
      async createDatabase() {
        databases += 1;
        const name = `index_${databases}`;
        const client = new pg.Client(options());
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return options(name);
      },
      async stop() {
        postmasterProcess.kill('SIGINT');
        if (!(await ended(postmasterProcess, 10_000))) {
          postmasterProcess.kill('SIGKILL');
          await ended(postmasterProcess, 10_000);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
