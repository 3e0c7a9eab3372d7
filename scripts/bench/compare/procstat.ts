/**
 * CPU time and peak RSS of a process tree from /proc, sampled: each process's user+sys ticks (kept from its last
 * sample after it exits) and its VmHWM (the kernel's own peak RSS). A process whose command is in `exclude` (the
 * stand-in for the camera's encoder) is left out of the sums but not its children.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { type IoCounters, parseIo } from './card.ts';

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

export interface ProcSample {
  pid: number;
  ppid: number;
  comm: string;
  cpuSeconds: number;
  peakRssBytes: number;
}

/** Fields of /proc/<pid>/stat after the command (which may hold spaces and parentheses). */
export function parseStat(text: string): { comm: string; ppid: number; ticks: number } {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return { comm: text.slice(open + 1, close), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

/** One process's user+sys CPU seconds so far (NaN once it is gone). */
export function cpuSecondsOf(pid: number): number {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ticks / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

function read(pid: number): ProcSample | undefined {
  try {
    const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return {
      pid,
      ppid: stat.ppid,
      comm: stat.comm,
      cpuSeconds: stat.ticks / TICKS_PER_SECOND,
      peakRssBytes: Number(hwm?.[1] ?? 0) * 1024,
    };
  } catch {
    return undefined; // exited between listing and reading
  }
}

export class TreeSampler {
  readonly #root: number;
  readonly #seen = new Map<number, ProcSample>();
  #baseline = new Map<number, number>();

  constructor(root: number) {
    this.#root = root;
  }

  sample(): void {
    for (const p of this.#tree()) this.#seen.set(p.pid, p);
  }

  /**
   * Storage writes of the tree so far: the kernel's per-process I/O counters summed over the live processes. A
   * reaped child's counters are added to its parent's by the kernel (wait_task_zombie), so the sum over the living
   * counts the dead as well, once.
   */
  io(): IoCounters {
    const sum: IoCounters = { writeBytes: 0, cancelledWriteBytes: 0, wchar: 0 };
    for (const p of this.#tree()) {
      let text: string;
      try {
        text = readFileSync(`/proc/${p.pid}/io`, 'utf8');
      } catch {
        continue; // exited since the listing: its parent holds its counters once it is reaped
      }
      // A kernel without task I/O accounting has no write_bytes: that throws rather than counting nothing.
      const io = parseIo(text);
      sum.writeBytes += io.writeBytes;
      sum.cancelledWriteBytes += io.cancelledWriteBytes;
      sum.wchar += io.wchar;
    }
    return sum;
  }

  #tree(): ProcSample[] {
    const all = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => read(Number(d)))
      .filter((p): p is ProcSample => p !== undefined);
    const inTree = new Set([this.#root]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const p of all) {
        if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
          inTree.add(p.pid);
          grew = true;
        }
      }
    }
    return all.filter((p) => inTree.has(p.pid));
  }

  /** CPU spent so far (start-up) is not counted. */
  mark(): void {
    this.sample();
    this.#baseline = new Map([...this.#seen.values()].map((p) => [p.pid, p.cpuSeconds]));
  }

  #cpu(p: ProcSample): number {
    return p.cpuSeconds - (this.#baseline.get(p.pid) ?? 0);
  }

  /**
   * The root alone (the controller), the whole tree without the excluded commands, and the tree's CPU seconds by
   * command (excluded ones too, marked), which says where a tree's time goes.
   */
  totals(exclude: readonly string[]): {
    controller: { cpu: number; rss: number };
    tree: { cpu: number; rss: number };
    byCommand: Record<string, number>;
  } {
    const seen = [...this.#seen.values()];
    const kept = seen.filter((p) => !exclude.includes(p.comm));
    const root = this.#seen.get(this.#root);
    const byCommand: Record<string, number> = {};
    for (const p of seen) {
      const name = p.pid === this.#root ? 'controller' : exclude.includes(p.comm) ? `${p.comm} (not counted)` : p.comm;
      byCommand[name] = (byCommand[name] ?? 0) + this.#cpu(p);
    }
    return {
      controller: { cpu: root === undefined ? 0 : this.#cpu(root), rss: root?.peakRssBytes ?? 0 },
      tree: {
        cpu: kept.reduce((n, p) => n + this.#cpu(p), 0),
        rss: kept.reduce((n, p) => n + p.peakRssBytes, 0),
      },
      byCommand,
    };
  }

  processes(): ProcSample[] {
    return [...this.#seen.values()];
  }
}
