/**
 * Helpers for tests on the in-memory broker (src/protocol/transport/memory-broker.ts) and the fake clock: a client
 * connected and subscribed, and a driver that moves fake time on while real I/O (SQLite, files) completes, so a
 * test waits for an outcome without ever sleeping on the wall clock.
 */
import type { FakeClock } from '../../src/hal/clock/fake.ts';
import { MemoryTransport } from '../../src/protocol/transport/memory.ts';
import type { MemoryBroker } from '../../src/protocol/transport/memory-broker.ts';
import type { InboundMessage } from '../../src/protocol/transport/port.ts';

/** A client of `broker` as `user`, connected; resolves once the broker accepted it. */
export async function connected(broker: MemoryBroker, clock: FakeClock, user: string): Promise<MemoryTransport> {
  const t = new MemoryTransport({ broker, user, clock });
  const up = new Promise<void>((resolve) => {
    const off = t.on('connect', () => {
      off();
      resolve();
    });
  });
  await t.open();
  await up;
  return t;
}

/** Everything `user` is sent on `filters` (as the ACL lets it read), in arrival order. */
export async function listen(
  broker: MemoryBroker,
  clock: FakeClock,
  user: string,
  filters: readonly string[],
): Promise<InboundMessage[]> {
  const t = await connected(broker, clock, user);
  const got: InboundMessage[] = [];
  t.on('message', (m) => got.push(m));
  await t.subscribe(filters);
  return got;
}

/**
 * Runs until `done()` holds: each step lets pending callbacks and I/O run and moves fake time on by `stepMs`.
 * Throws naming `what` once `limitMs` of fake time have passed without it.
 */
export async function runUntil(
  clock: FakeClock,
  done: () => boolean,
  what: string,
  o: { stepMs?: number; limitMs?: number } = {},
): Promise<void> {
  const step = o.stepMs ?? 1;
  const end = clock.now() + (o.limitMs ?? 120_000);
  while (!done()) {
    if (clock.now() >= end) throw new Error(`${what}: not within ${o.limitMs ?? 120_000} ms of fake time`);
    await clock.advance(step);
  }
}
