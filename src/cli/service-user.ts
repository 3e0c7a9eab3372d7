/**
 * The camera's service user (`bodycam`, made by the Debian package; the systemd units run as it). Root runs the
 * technician's commands; these helpers let them act for that user: whom it is (passwd and group files), what it can
 * read or write (permission bits, as the kernel would decide for it), and giving it what it must own.
 */
import type { Stats } from 'node:fs';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export const SERVICE_USER = 'bodycam';

export interface Account {
  name: string;
  uid: number;
  gid: number;
  /** Every group it is in: its primary group and the supplementary ones listed in the group file. */
  groups: number[];
  /** Names of those groups, for messages. */
  groupNames: string[];
}

/** Reads an account from passwd(5) and group(5) text; null when the user is not there. */
export function parseAccount(name: string, passwd: string, group: string): Account | null {
  const entry = passwd
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === name && f.length >= 7);
  if (entry === undefined) return null;
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  const groups = new Map<number, string>();
  for (const line of group.split('\n')) {
    const [gname, , id, members] = line.split(':');
    if (gname === undefined || id === undefined) continue;
    const n = Number(id);
    if (!Number.isInteger(n)) continue;
    if (n === gid || (members ?? '').split(',').includes(name)) groups.set(n, gname);
  }
  if (!groups.has(gid)) groups.set(gid, String(gid));
  return { name, uid, gid, groups: [...groups.keys()], groupNames: [...groups.values()] };
}

/** The account on this system (under `root`, '' on a real machine), or null when it does not exist. */
export function lookupAccount(name: string, root = ''): Account | null {
  try {
    return parseAccount(
      name,
      readFileSync(path.join(root, '/etc/passwd'), 'utf8'),
      readFileSync(path.join(root, '/etc/group'), 'utf8'),
    );
  } catch {
    return null;
  }
}

export const R = 4;
export const W = 2;
export const X = 1;

/** Whether `account` may `want` (R, W, X or a sum) on a file with this owner and mode, as the kernel decides. */
export function permits(account: Account, file: Pick<Stats, 'uid' | 'gid' | 'mode'>, want: number): boolean {
  if (account.uid === 0) return (want & X) === 0 || (file.mode & 0o111) !== 0;
  const bits =
    file.uid === account.uid
      ? (file.mode >> 6) & 7
      : account.groups.includes(file.gid)
        ? (file.mode >> 3) & 7
        : file.mode & 7;
  return (bits & want) === want;
}

/**
 * What keeps `account` from `want` on `file`: a directory on the way it cannot enter, or the file's own bits; null
 * when nothing does. A missing file is reported as such.
 */
export async function accessProblem(account: Account, file: string, want: number): Promise<string | null> {
  const absolute = path.resolve(file);
  const parts = absolute.split(path.sep).filter((p) => p !== '');
  let at = '/';
  for (const part of parts.slice(0, -1)) {
    at = path.join(at, part);
    const info = await stat(at).catch(() => null);
    if (info === null) return `${at} does not exist`;
    if (!permits(account, info, X)) return `${account.name} cannot enter ${at} (${describe(info)})`;
  }
  const info = await stat(absolute).catch(() => null);
  if (info === null) return `${absolute} does not exist`;
  if (!permits(account, info, want)) {
    const what = [want & R ? 'read' : '', want & W ? 'write' : '', want & X ? 'enter' : ''].filter((w) => w).join('/');
    return `${account.name} cannot ${what} ${absolute} (${describe(info)})`;
  }
  return null;
}

function describe(info: Pick<Stats, 'uid' | 'gid' | 'mode'>): string {
  return `owner uid ${info.uid}, group gid ${info.gid}, mode ${(info.mode & 0o777).toString(8)}`;
}

/**
 * The account root's commands act for: the service user when running as root and it exists, else null (act as
 * whoever runs the command).
 */
export function serviceAccountForRoot(root = ''): Account | null {
  if (process.getuid?.() !== 0) return null;
  return lookupAccount(SERVICE_USER, root);
}
