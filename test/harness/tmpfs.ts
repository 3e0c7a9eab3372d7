/**
 * Small real filesystems for storage tests: a tmpfs of a given size per camera (root only; `mounted` says whether
 * it worked, so a test can skip naming what is missing), its free space as the camera reads it, a filler file that
 * leaves an exact number of bytes free, and the storage reserve the camera computes for what its card holds.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storageReserve } from '../../src/camera/health/reserve.ts';
import { CameraStore } from '../../src/camera/storage/store.ts';
import { INDEX_FILE } from '../../src/evidence/paths.ts';

export interface Tmpfs {
  dir: string;
  mounted: boolean;
}

/** A fresh tmpfs of `sizeMb` MiB (only as root); unmount it in afterAll. */
export function mountTmpfs(sizeMb: number): Tmpfs {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-tmpfs-'));
  const mounted =
    process.getuid?.() === 0 &&
    spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir]).status === 0;
  return { dir, mounted };
}

export function unmountTmpfs(fs: Tmpfs): void {
  if (fs.mounted) spawnSync('umount', ['-l', fs.dir]);
  rmSync(fs.dir, { recursive: true, force: true });
}

/** Free bytes for the camera (statfs bavail × bsize), and the block size. */
export function freeSpace(dir: string): { freeBytes: number; blockSize: number } {
  const s = statfsSync(dir);
  return { freeBytes: s.bavail * s.bsize, blockSize: s.bsize };
}

/**
 * Writes `<dir>/filler` (another writer's file: keep `dir` outside the camera's storage directory, whose verifier
 * rejects what does not belong there) so that at most one block more than `leaveBytes` stays free; returns its size.
 * A writer beside it (a recording camera) may take space meanwhile: the filler then stops at ENOSPC, storage full.
 */
export function fillLeaving(dir: string, leaveBytes: number): number {
  const { freeBytes, blockSize } = freeSpace(dir);
  const bytes = Math.max(0, Math.floor((freeBytes - leaveBytes) / blockSize) * blockSize);
  const fd = openSync(path.join(dir, 'filler'), 'a');
  try {
    const block = Buffer.alloc(1024 * 1024, 0x5a);
    for (let left = bytes; left > 0; ) {
      let n: number;
      try {
        n = writeSync(fd, block, 0, Math.min(block.length, left));
      } catch (e) {
        // A camera recording beside it took some of the space meanwhile: the storage is as full as it gets.
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return bytes - left;
        throw e;
      }
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** The reserve the camera computes for its card now (docs/design.md §18), read from its index. */
export function cardReserve(storageDir: string): number {
  const { blockSize } = freeSpace(storageDir);
  if (!existsSync(path.join(storageDir, INDEX_FILE))) {
    return storageReserve({ blockSize, segmentsOnCard: 0, incidentsOnCard: 0, walBytesNow: 0 }).bytes;
  }
  const store = CameraStore.open(storageDir, { readonly: true });
  try {
    const contents = store.contents();
    const wal = path.join(storageDir, `${INDEX_FILE}-wal`);
    return storageReserve({
      blockSize,
      ...contents,
      walBytesNow: existsSync(wal) ? statSync(wal).size : 0,
    }).bytes;
  } finally {
    store.close();
  }
}
