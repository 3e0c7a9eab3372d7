/**
 * Giving files to another user (root provisioning or upgrading a camera for its service user), never through a
 * symbolic link or a hard link that a less trusted user could have planted: the file is opened with O_NOFOLLOW,
 * checked on the open descriptor (type, one link) and changed through it (fchown, fchmod), so what is checked is what
 * is changed.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { BodycamError, ErrorCode, errnoCode } from './errors.ts';

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Sets owner and mode of `path`, a regular file (`file`) or a directory (`dir`). Returns false when it does not exist;
 * USAGE when it is a symbolic link, of another type, or a file with more than one hard link.
 */
export async function handTo(path: string, owner: Owner, mode: number, kind: 'file' | 'dir'): Promise<boolean> {
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | (kind === 'dir' ? constants.O_DIRECTORY : 0);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, flags | constants.O_NONBLOCK);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return false;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      throw new BodycamError(
        ErrorCode.USAGE,
        `${path} is a symbolic link or not a ${kind === 'dir' ? 'directory' : 'file'}: not giving it to uid ${owner.uid}`,
        { path },
      );
    }
    throw e;
  }
  try {
    const info = await handle.stat();
    const wrongType = kind === 'dir' ? !info.isDirectory() : !info.isFile();
    if (wrongType || (kind === 'file' && info.nlink !== 1)) {
      throw new BodycamError(
        ErrorCode.USAGE,
        `${path} is ${wrongType ? `not a regular ${kind === 'dir' ? 'directory' : 'file'}` : `linked ${info.nlink} times`}: not giving it to uid ${owner.uid}`,
        { path },
      );
    }
    if (info.uid !== owner.uid || info.gid !== owner.gid) await handle.chown(owner.uid, owner.gid);
    if ((info.mode & 0o7777) !== mode) await handle.chmod(mode);
    return true;
  } finally {
    await handle.close();
  }
}
