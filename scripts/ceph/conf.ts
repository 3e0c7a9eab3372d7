/**
 * The single-node test cluster's configuration and command lines, as pure functions (tested by comparing text and
 * argument lists): one monitor, one memstore OSD and the RADOS Gateway, all on loopback, every file under one
 * directory. The settings that are not Ceph's defaults each have a reason:
 *
 * - `auth … = none`: a throw-away cluster on loopback needs no cephx keys; S3 requests are still signed (SigV4) with
 *   the gateway user's keys.
 * - `ms mon client mode = crc secure`: with auth none and the default mode list, the gateway loops on an
 *   authentication error talking to the monitor.
 * - `public/cluster network = 127.0.0.0/8` and `public/cluster addr = 127.0.0.1`: else the OSD binds 0.0.0.0.
 * - `paxos propose interval = 0.1`: the default (1 s) makes start-up take ~11 s instead of ~2.5 s.
 * - pool size 1, `osd crush chooseleaf type = 0`: one OSD holds every replica there is.
 * - `osd objectstore = memstore`: the OSD keeps objects in RAM; nothing survives the cluster, nothing touches disk.
 */

export interface CephPorts {
  /** The monitor's msgr2 port. */
  mon: number;
  /** The gateway's HTTP port (S3 endpoint http://127.0.0.1:<rgw>). */
  rgw: number;
}

export interface CephConfOptions {
  fsid: string;
  /** The cluster directory (absolute); every daemon keeps its data, sockets and logs under it. */
  dir: string;
  ports: CephPorts;
  /** The memstore OSD's capacity in bytes. */
  memstoreBytes: number;
}

/** The monitor's id, the OSD's id and the gateway's client name. */
export const MON_ID = 'a';
export const OSD_ID = '0';
export const RGW_NAME = 'client.rgw.a';

/** ceph.conf for the cluster. */
export function cephConf(o: CephConfOptions): string {
  const d = o.dir;
  return `${[
    '[global]',
    `fsid = ${o.fsid}`,
    `mon host = v2:127.0.0.1:${o.ports.mon}`,
    'auth cluster required = none',
    'auth service required = none',
    'auth client required = none',
    'ms mon client mode = crc secure',
    'public network = 127.0.0.0/8',
    'cluster network = 127.0.0.0/8',
    'public addr = 127.0.0.1',
    'cluster addr = 127.0.0.1',
    'osd pool default size = 1',
    'osd pool default min size = 1',
    'mon allow pool size one = true',
    'mon warn on pool no redundancy = false',
    'osd crush chooseleaf type = 0',
    'osd objectstore = memstore',
    `memstore device bytes = ${o.memstoreBytes}`,
    'paxos propose interval = 0.1',
    `run dir = ${d}/run`,
    `admin socket = ${d}/run/$name.asok`,
    `pid file = ${d}/run/$name.pid`,
    `log file = ${d}/log/$name.log`,
    `mon data = ${d}/mon/$id`,
    `osd data = ${d}/osd/$id`,
    'keyring = /dev/null',
    '',
    `[${RGW_NAME}]`,
    `rgw frontends = beast endpoint=127.0.0.1:${o.ports.rgw}`,
    `rgw data = ${d}/rgw`,
  ].join('\n')}\n`;
}

/** The directories cephConf names, to create before the daemons start. */
export function cephDirs(dir: string): string[] {
  return ['run', 'log', 'mon', `osd/${OSD_ID}`, 'rgw'].map((d) => `${dir}/${d}`);
}

/** A command and its arguments. */
export interface Command {
  command: string;
  args: string[];
}

/** `monmaptool`: the initial monitor map with the one monitor. */
export function monmapCommand(conf: CephConfOptions, file: string): Command {
  return {
    command: 'monmaptool',
    args: ['--create', '--addv', MON_ID, `[v2:127.0.0.1:${conf.ports.mon}]`, '--fsid', conf.fsid, file],
  };
}

/** `ceph-mon --mkfs`: the monitor's store from the map. */
export function monMkfsCommand(confFile: string, monmap: string): Command {
  return { command: 'ceph-mon', args: ['-c', confFile, '--mkfs', '-i', MON_ID, '--monmap', monmap] };
}

/** `ceph osd create`: registers OSD 0 with the monitor (prints its id). */
export function osdCreateCommand(confFile: string): Command {
  return { command: 'ceph', args: ['-c', confFile, 'osd', 'create'] };
}

/** `ceph-osd --mkfs`: the memstore OSD's (empty) store. */
export function osdMkfsCommand(confFile: string): Command {
  return { command: 'ceph-osd', args: ['-c', confFile, '--mkfs', '-i', OSD_ID] };
}

export type Daemon = 'mon' | 'osd' | 'rgw';

/**
 * A daemon in the foreground (`-f`: it does not fork away), under `setpriv --pdeathsig KILL`: the kernel SIGKILLs it
 * when the process that started it dies, even by SIGKILL, so a killed test leaves no cluster behind.
 */
export function daemonCommand(daemon: Daemon, confFile: string): Command {
  const own: Record<Daemon, string[]> = {
    mon: ['ceph-mon', '-c', confFile, '-f', '-i', MON_ID],
    osd: ['ceph-osd', '-c', confFile, '-f', '-i', OSD_ID],
    rgw: ['radosgw', '-c', confFile, '-f', '-n', RGW_NAME],
  };
  return { command: 'setpriv', args: ['--pdeathsig', 'KILL', '--', ...own[daemon]] };
}

/** `radosgw-admin user create`: an S3 user with the given keys; `--admin` makes it the gateway's administrator. */
export function userCreateCommand(
  confFile: string,
  user: { uid: string; accessKeyId: string; secretAccessKey: string; admin: boolean },
): Command {
  return {
    command: 'radosgw-admin',
    args: [
      '-c',
      confFile,
      'user',
      'create',
      '--uid',
      user.uid,
      '--display-name',
      user.uid,
      '--access-key',
      user.accessKeyId,
      '--secret-key',
      user.secretAccessKey,
      ...(user.admin ? ['--admin'] : []),
    ],
  };
}
