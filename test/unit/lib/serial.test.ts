/** The serial queue: one piece at a time in queue order, results and failures to the caller, never stuck. */
import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../../src/lib/serial.ts';

/** A piece of work that finishes when the test says so. */
function gate() {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { wait: () => promise, open: resolve };
}

describe('SerialQueue', () => {
  it('runs one piece at a time, in queue order, each with its own result', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const first = gate();
    const a = queue.run(async () => {
      log.push('a starts');
      await first.wait();
      log.push('a ends');
      return 'A';
    });
    const b = queue.run(() => {
      log.push('b runs');
      return 'B';
    });
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['a starts']); // b waits for a, even though a is only waiting
    first.open();
    expect([await a, await b]).toEqual(['A', 'B']);
    expect(log).toEqual(['a starts', 'a ends', 'b runs']);
  });

  it('a failure goes to its caller and the pieces after it still run', async () => {
    const queue = new SerialQueue();
    const failing = queue.run(async () => {
      throw new Error('disk full');
    });
    const next = queue.run(async () => 'ran');
    await expect(failing).rejects.toThrow('disk full');
    expect(await next).toBe('ran');
  });

  it('push hands a failure to its handler and idle() waits for everything queued so far', async () => {
    const queue = new SerialQueue();
    const errors: unknown[] = [];
    const done: number[] = [];
    const slow = gate();
    queue.push(
      async () => {
        await slow.wait();
        done.push(1);
      },
      (e) => errors.push(e),
    );
    queue.push(
      () => {
        throw new Error('bug');
      },
      (e) => errors.push((e as Error).message),
    );
    queue.push(
      () => done.push(3),
      (e) => errors.push(e),
    );
    let idle = false;
    const waiting = queue.idle().then(() => {
      idle = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    slow.open();
    await waiting;
    expect(done).toEqual([1, 3]);
    expect(errors).toEqual(['bug']);
  });

  it('an idle queue is idle at once', async () => {
    await expect(new SerialQueue().idle()).resolves.toBeUndefined();
  });
});
