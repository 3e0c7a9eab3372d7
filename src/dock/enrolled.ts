/**
 * The enrolled cameras' signing keys, read from their enrolment records (`devices/<id>/device.pub`) as they are at
 * each use: a record removed (the camera withdrawn) or replaced is seen at once, never hidden by a cached key. The
 * parsed key is kept only while the file is the same one (inode, size, modification and change times), so a check
 * costs one stat.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { keyId, loadPublicKey } from '../evidence/keys.ts';
import { deviceFiles, dockLayout } from './layout.ts';

export interface EnrolledKey {
  key: KeyObject;
  pem: string;
  keyId: string;
}

interface Cached extends EnrolledKey {
  stamp: string;
}

export class EnrolledDevices {
  readonly #dir: string;
  readonly #cache = new Map<string, Cached>();

  /** `dir`: the dock directory. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The camera's enrolled key as its record says now; null when it is not enrolled (or its record unreadable). */
  key(device: string): EnrolledKey | null {
    const file = deviceFiles(this.#dir, device).pub;
    let stamp: string;
    try {
      const st = statSync(file, { bigint: true });
      stamp = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      this.#cache.delete(device);
      return null;
    }
    const cached = this.#cache.get(device);
    if (cached?.stamp === stamp) return cached;
    try {
      const pem = readFileSync(file, 'utf8');
      const key = loadPublicKey(pem);
      const entry = { key, pem, keyId: keyId(key), stamp };
      this.#cache.set(device, entry);
      return entry;
    } catch {
      this.#cache.delete(device);
      return null;
    }
  }
}

/** Device ids enrolled at the dock `dir`: the directories under DOCKDIR/devices holding a device.pub. */
export function enrolledDeviceIds(dir: string): string[] {
  const devices = dockLayout(dir).devicesDir;
  if (!existsSync(devices)) return [];
  return readdirSync(devices, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(deviceFiles(dir, e.name).pub))
    .map((e) => e.name);
}
