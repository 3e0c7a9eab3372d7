/**
 * A throw-away single-node Ceph cluster on loopback for tests and benchmarks: one monitor, one memstore OSD and the
 * RADOS Gateway (S3), in a temp directory, as the current user. Every daemon runs in the foreground in its own
 * process group under `setpriv --pdeathsig KILL`, so `stop()` ends them (SIGTERM, then SIGKILL) and a process that
 * is SIGKILLed leaves nothing running (its temp directory is removed by the next start). Needs Debian's `ceph-mon ceph-osd radosgw ceph-common` (scripts/setup.sh).
 *
 *   node scripts/ceph/cluster.ts      starts one, prints its endpoint and credentials, stops it on Ctrl-C / SIGTERM
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { realClock } from '../../src/hal/clock/real.ts';
import { NodeProcessRunner } from '../../src/hal/process/node.ts';
import type { RunningProcess } from '../../src/hal/process/port.ts';
import { stopProcess } from '../../src/hal/process/supervision.ts';
import { listenForStop } from '../../src/lib/signals.ts';
import { rssOf } from '../bench/proc.ts';
import { freePort } from '../free-port.ts';
import {
  type CephConfOptions,
  type Command,
  cephConf,
  cephDirs,
  type Daemon,
  daemonCommand,
  monMkfsCommand,
  monmapCommand,
  osdCreateCommand,
  osdMkfsCommand,
  userCreateCommand,
} from './conf.ts';

export interface CephOptions {
  /** The cluster directory (default: a new temp directory, removed by stop()). */
  dir?: string;
  /** The memstore OSD's capacity (default 1 GiB; RAM is used only as objects arrive). */
  memstoreBytes?: number;
  /** start() gives up after this long (default 60 s). */
  startTimeoutMs?: number;
}

/** S3 credentials of a gateway user. */
export interface S3User {
  uid: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface CephCluster {
  dir: string;
  confFile: string;
  /** The S3 endpoint, http://127.0.0.1:<port>. */
  endpoint: string;
  /** The gateway's administrator (`radosgw-admin user create --admin`). */
  admin: S3User;
  /** Milliseconds from the first command to a gateway that answers S3 requests. */
  startMs: number;
  /** Process ids of the running daemons. */
  pids(): Partial<Record<Daemon, number>>;
  /** Another S3 user (not an administrator). */
  createUser(uid: string): Promise<S3User>;
  /** SIGKILLs the gateway (a crash); the monitor and OSD keep their data. */
  killGateway(): Promise<void>;
  /** Starts the gateway again; resolves once it answers. */
  startGateway(): Promise<void>;
  /** Ends every daemon and removes the directory it made. */
  stop(): Promise<void>;
}

const runner = new NodeProcessRunner();

async function run(c: Command, timeoutMs = 30_000): Promise<string> {
  const r = await runner.run({ command: c.command, args: c.args }, { timeoutMs });
  if (r.code !== 0) {
    const why = r.error?.message ?? (r.timedOut ? `timed out after ${timeoutMs} ms` : `exit ${r.code ?? r.signal}`);
    throw new Error(`${c.command} ${c.args.join(' ')} failed (${why}): ${r.stderr.trim().slice(-2000)}`);
  }
  return r.stdout;
}

/** Does the gateway answer an (anonymous) S3 request with 200? */
async function gatewayAnswers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function until(pred: () => Promise<boolean>, what: string, deadline: number, died: () => string | null) {
  for (;;) {
    if (await pred()) return;
    const dead = died();
    if (dead !== null) throw new Error(`${what}: ${dead}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TEMP_PREFIX = 'bodycam-ceph-';
const OWNER_FILE = 'owner.pid';

/** Removes the temp directories of clusters whose starting process is gone (killed before it could stop them). */
function removeOrphans(): void {
  for (const name of readdirSync(os.tmpdir()).filter((n) => n.startsWith(TEMP_PREFIX))) {
    const dir = path.join(os.tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not made by this script, or still being made
    }
    if (!alive(owner)) rmSync(dir, { recursive: true, force: true });
  }
}

/** Is `pid` a running process (not gone, not a zombie waiting for its parent)? */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Starts a cluster; resolves once the gateway answers and the administrator exists. */
export async function startCeph(opts: CephOptions = {}): Promise<CephCluster> {
  const t0 = performance.now();
  const ownDir = opts.dir === undefined;
  if (ownDir) removeOrphans();
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), TEMP_PREFIX));
  if (ownDir) writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  const conf: CephConfOptions = {
    fsid: randomUUID(),
    dir,
    ports: { mon: await freePort(), rgw: await freePort() },
    memstoreBytes: opts.memstoreBytes ?? 1024 ** 3,
  };
  const confFile = path.join(dir, 'ceph.conf');
  const endpoint = `http://127.0.0.1:${conf.ports.rgw}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  const procs = new Map<Daemon, RunningProcess>();
  const exits = new Map<Daemon, string>();

  const spawn = (daemon: Daemon): void => {
    const c = daemonCommand(daemon, confFile);
    const proc = runner.spawn({ command: c.command, args: c.args, detached: true });
    procs.set(daemon, proc);
    exits.delete(daemon);
    void proc.exited.then((e) => {
      if (procs.get(daemon) !== proc) return;
      exits.set(
        daemon,
        `${daemon} exited (${e.error?.message ?? e.code ?? e.signal}): ${proc.stderrTail().join('\n')}`,
      );
    });
  };
  const died = (): string | null => [...exits.values()][0] ?? null;
  const stopAll = async (): Promise<void> => {
    for (const daemon of ['rgw', 'osd', 'mon'] as const) {
      const proc = procs.get(daemon);
      procs.delete(daemon);
      if (proc !== undefined) await stopProcess(proc, { clock: realClock, graceMs: 3000 });
    }
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const d of cephDirs(dir)) mkdirSync(d, { recursive: true });
    writeFileSync(confFile, cephConf(conf));
    const monmap = path.join(dir, 'monmap');
    await run(monmapCommand(conf, monmap));
    await run(monMkfsCommand(confFile, monmap));
    spawn('mon');
    await run(osdCreateCommand(confFile));
    await run(osdMkfsCommand(confFile));
    spawn('osd');
    spawn('rgw');
    await until(() => gatewayAnswers(endpoint), 'the gateway', deadline, died);
    const admin: S3User = {
      uid: 'admin',
      accessKeyId: randomBytes(10).toString('hex').toUpperCase(),
      secretAccessKey: randomBytes(20).toString('base64url'),
    };
    await run(userCreateCommand(confFile, { ...admin, admin: true }));
    const startMs = performance.now() - t0;
    return {
      dir,
      confFile,
      endpoint,
      admin,
      startMs,
      pids: () => Object.fromEntries([...procs].map(([d, p]) => [d, p.pid])),
      createUser: async (uid) => {
        const user: S3User = {
          uid,
          accessKeyId: randomBytes(10).toString('hex').toUpperCase(),
          secretAccessKey: randomBytes(20).toString('base64url'),
        };
        await run(userCreateCommand(confFile, { ...user, admin: false }));
        return user;
      },
      killGateway: async () => {
        const proc = procs.get('rgw');
        procs.delete('rgw');
        proc?.kill('SIGKILL');
        await proc?.exited;
      },
      startGateway: async () => {
        spawn('rgw');
        await until(() => gatewayAnswers(endpoint), 'the gateway', Date.now() + 30_000, died);
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Sum of the daemons' resident set sizes in bytes (setpriv execs each daemon, so its pid is the daemon's). */
export function clusterRss(cluster: CephCluster): number {
  return Object.values(cluster.pids()).reduce((sum, pid) => sum + (pid === undefined ? 0 : rssOf(pid)), 0);
}

if (import.meta.main) {
  const stop = listenForStop(); // before starting: a Ctrl-C during the start stops the cluster once it runs
  const cluster = await startCeph();
  process.stdout.write(
    `${JSON.stringify(
      {
        endpoint: cluster.endpoint,
        region: 'us-east-1',
        accessKeyId: cluster.admin.accessKeyId,
        secretAccessKey: cluster.admin.secretAccessKey,
        dir: cluster.dir,
        startMs: Math.round(cluster.startMs),
        rssMiB: Math.round((clusterRss(cluster) / 1024 ** 2) * 10) / 10,
      },
      null,
      2,
    )}\nrunning; Ctrl-C stops it\n`,
  );
  await stop.received;
  await cluster.stop();
}
