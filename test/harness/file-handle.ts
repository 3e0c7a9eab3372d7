/** Spying on node:fs/promises' FileHandle, whose prototype every open file shares, to make disk calls fail. */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { vi } from 'vitest';

type Method = (...args: unknown[]) => Promise<unknown>;

/** FileHandle's prototype, reached through a probe file in `dir` (opened, closed and removed again). */
export async function fileHandlePrototype(dir: string): Promise<Record<string, Method>> {
  const file = path.join(dir, 'probe');
  const probe = await open(file, 'w');
  await probe.close();
  await rm(file);
  return Object.getPrototypeOf(probe) as Record<string, Method>;
}

/** Makes FileHandle's `name` fail its next `times` calls (of any handle) with errno `code`; `mockRestore()` ends it. */
export async function failFileHandle(dir: string, name: 'datasync' | 'truncate', times: number, code: string) {
  const proto = await fileHandlePrototype(dir);
  const original = proto[name] as Method;
  let left = times;
  return vi.spyOn(proto, name).mockImplementation(async function (this: unknown, ...args: unknown[]) {
    if (left-- > 0) throw Object.assign(new Error(`${name} failed`), { code });
    return original.apply(this, args);
  });
}
