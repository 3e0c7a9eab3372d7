/**
 * What the comparison says to each recorder's controller and hears back: one JSON object a line, commands on the
 * controller's stdin, reports on its stdout (the GStreamer controller, in Python, speaks the same lines).
 */
import { createInterface } from 'node:readline';

export type Command = { cmd: 'trigger'; id: number } | { cmd: 'stop'; id: number } | { cmd: 'quit' };

export type Report =
  | { event: 'ready'; identity?: string }
  /** Pre-roll durable: `ms` from the trigger's arrival, `bytes` on disk at that moment. */
  | { event: 'durable'; id: number; ms: number; bytes: number; files: string[] }
  /** Recording closed; `files` in order (bodycam: age-sealed segments). */
  | { event: 'stopped'; id: number; files: string[] };

export function report(r: Report): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

/** Calls `on` for each command on stdin; resolves when stdin ends or `quit` arrives. */
export function commands(on: (c: Command) => void | Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      const c = JSON.parse(line) as Command;
      if (c.cmd === 'quit') {
        rl.close();
        return;
      }
      void on(c);
    });
    rl.on('close', () => resolve());
  });
}

/** `--key value` pairs of argv. */
export function args(): Map<string, string> {
  const a = process.argv.slice(2);
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < a.length; i += 2) m.set(a[i] ?? '', a[i + 1] ?? '');
  return m;
}

export function need(a: Map<string, string>, key: string): string {
  const v = a.get(key);
  if (v === undefined) throw new Error(`missing ${key}`);
  return v;
}
