/**
 * The typed event bus: every listener runs before emit returns, in subscription order; a listener that throws
 * neither stops the others nor reaches the emitter; unsubscribing (also from inside an emit) never disturbs the emit
 * under way; a component's subscriptions go together.
 */
import { describe, expect, it } from 'vitest';
import { EventBus, Subscriptions } from '../../../src/lib/event-bus.ts';

interface Events {
  tick: { n: number };
  tock: string;
}

describe('EventBus', () => {
  it('runs every listener of an event synchronously, in subscription order, with its payload', () => {
    const bus = new EventBus<Events>();
    const seen: string[] = [];
    bus.on('tick', (e) => seen.push(`a${e.n}`));
    bus.on('tock', (s) => seen.push(`tock:${s}`));
    bus.on('tick', (e) => seen.push(`b${e.n}`));
    bus.emit('tick', { n: 1 });
    seen.push('after');
    bus.emit('tock', 'x');
    expect(seen).toEqual(['a1', 'b1', 'after', 'tock:x']);
    expect([bus.listenerCount('tick'), bus.listenerCount('tock')]).toEqual([2, 1]);
  });

  it('emits to nobody without error', () => {
    const bus = new EventBus<Events>();
    expect(() => bus.emit('tick', { n: 1 })).not.toThrow();
    expect(bus.listenerCount('tick')).toBe(0);
  });

  it('hands a listener error to onListenerError and still runs the later listeners', () => {
    const failures: Array<[string, unknown]> = [];
    const bus = new EventBus<Events>({ onListenerError: (event, error) => failures.push([event, error]) });
    const boom = new Error('boom');
    const seen: number[] = [];
    bus.on('tick', () => {
      throw boom;
    });
    bus.on('tick', (e) => seen.push(e.n));
    expect(() => bus.emit('tick', { n: 7 })).not.toThrow();
    expect(seen).toEqual([7]);
    expect(failures).toEqual([['tick', boom]]);
  });

  it('without a handler a listener error reaches the emitter, naming the event (tests see their bugs)', () => {
    const bus = new EventBus<Events>();
    bus.on('tock', () => {
      throw new Error('inner');
    });
    expect(() => bus.emit('tock', 'x')).toThrow('listener of tock failed');
  });

  it('takes a handler set after construction, as the composition root does', () => {
    const bus = new EventBus<Events>();
    const events: string[] = [];
    bus.onListenerError = (event) => events.push(event);
    bus.on('tick', () => {
      throw new Error('x');
    });
    bus.emit('tick', { n: 1 });
    expect(events).toEqual(['tick']);
  });

  it('unsubscribes only the listener it was given for, once', () => {
    const bus = new EventBus<Events>();
    const seen: string[] = [];
    const same = (e: { n: number }) => seen.push(`same${e.n}`);
    const off1 = bus.on('tick', same);
    bus.on('tick', same);
    off1();
    off1(); // a second call is harmless and removes nothing more
    bus.emit('tick', { n: 1 });
    expect(seen).toEqual(['same1']);
    expect(bus.listenerCount('tick')).toBe(1);
  });

  it('a listener that unsubscribes itself or a later one during an emit leaves that emit as it began', () => {
    const bus = new EventBus<Events>();
    const seen: string[] = [];
    const offs: Array<() => void> = [];
    offs.push(
      bus.on('tick', () => {
        seen.push('first');
        offs[0]?.();
        offs[1]?.();
      }),
    );
    offs.push(bus.on('tick', () => seen.push('second')));
    bus.emit('tick', { n: 1 });
    expect(seen).toEqual(['first', 'second']);
    bus.emit('tick', { n: 2 });
    expect(seen).toEqual(['first', 'second']);
    expect(bus.listenerCount('tick')).toBe(0);
  });

  it('a listener added during an emit hears the next emit, not the current one', () => {
    const bus = new EventBus<Events>();
    const seen: number[] = [];
    let added = false;
    bus.on('tick', () => {
      if (added) return;
      added = true;
      bus.on('tick', (e) => seen.push(e.n));
    });
    bus.emit('tick', { n: 1 });
    bus.emit('tick', { n: 2 });
    expect(seen).toEqual([2]);
  });
});

describe('Subscriptions', () => {
  it("drops a component's subscriptions together and leaves the others", () => {
    const bus = new EventBus<Events>();
    const seen: string[] = [];
    const subs = new Subscriptions(bus);
    subs.on('tick', () => seen.push('component tick'));
    subs.on('tock', () => seen.push('component tock'));
    bus.on('tick', () => seen.push('other'));
    subs.clear();
    bus.emit('tick', { n: 1 });
    bus.emit('tock', 'x');
    expect(seen).toEqual(['other']);
    expect([bus.listenerCount('tick'), bus.listenerCount('tock')]).toEqual([1, 0]);
    subs.clear(); // stopping twice is harmless
    expect(bus.listenerCount('tick')).toBe(1);
  });
});
