/**
 * Notices that a file changed (another inode, size, modification or change time), by looking at it every `periodMs`
 * on the Clock port. The dock uses it for its revocation list: `bodycam dock withdraw` is another process, and the
 * running dock tells its broker to re-read the list within one period. Polling, not inotify: it sees a file replaced
 * by rename, needs nothing from the file system, and costs one stat per period.
 */
import { stat } from 'node:fs/promises';
import type { Clock, TimerHandle } from '../hal/clock/port.ts';

/** What identifies one version of a file; null when it does not exist. */
async function stampOf(file: string): Promise<string | null> {
  try {
    const st = await stat(file, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return null;
  }
}

export interface FileWatch {
  stop(): void;
}

/** Calls `changed` each time `file` is seen to differ from the last look (the first look only records it). */
export async function watchFile(file: string, clock: Clock, periodMs: number, changed: () => void): Promise<FileWatch> {
  let last = await stampOf(file);
  let looking = false;
  const timer: TimerHandle = clock.setInterval(() => {
    if (looking) return;
    looking = true;
    void stampOf(file)
      .then((now) => {
        if (now !== last) {
          last = now;
          if (now !== null) changed();
        }
      })
      .finally(() => {
        looking = false;
      });
  }, periodMs);
  return { stop: () => clock.clearInterval(timer) };
}
