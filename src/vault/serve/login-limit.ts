/**
 * Login rate limits: failed logins counted per account name and per client address, each with its own allowance;
 * past it, that name or address waits, the wait doubling with each further failure (up to an hour). A success clears
 * the name's count, not the address's (one address trying many names is the attack an address limit is for). Pure
 * state over a clock, so it is tested as a table.
 */
export interface LimitRule {
  /** Failures allowed before the first wait. */
  free: number;
  /** The first wait, ms; doubling after. */
  firstWaitMs: number;
  maxWaitMs: number;
  /** A count not touched for this long is forgotten. */
  forgetAfterMs: number;
}

export const NAME_RULE: LimitRule = { free: 5, firstWaitMs: 30_000, maxWaitMs: 3_600_000, forgetAfterMs: 86_400_000 };
/**
 * Refused requests about incidents, per account: each is written to the organisation's custody log, locked for years,
 * so an account that keeps being refused (another organisation's incident typed into a URL, footage asked for without
 * a decision) waits after a day's allowance instead of filling that log. Its attempts while waiting are answered 429
 * and go to the service's log only.
 */
export const REFUSAL_RULE: LimitRule = {
  free: 20,
  firstWaitMs: 60_000,
  maxWaitMs: 3_600_000,
  forgetAfterMs: 86_400_000,
};
export const ADDRESS_RULE: LimitRule = {
  free: 20,
  firstWaitMs: 30_000,
  maxWaitMs: 3_600_000,
  forgetAfterMs: 86_400_000,
};

interface Count {
  failures: number;
  lastMs: number;
}

/** Counts failures per key and says how long a key must wait; LoginLimits and the refusal limit use it. */
export class Counter {
  readonly #rule: LimitRule;
  readonly #counts = new Map<string, Count>();

  constructor(rule: LimitRule) {
    this.#rule = rule;
  }

  /** Ms to wait before `key` may try again (0: now). */
  waitMs(key: string, now: number): number {
    const c = this.#fresh(key, now);
    if (c === undefined || c.failures < this.#rule.free) return 0;
    const over = c.failures - this.#rule.free;
    const wait = Math.min(this.#rule.firstWaitMs * 2 ** Math.min(over, 30), this.#rule.maxWaitMs);
    return Math.max(0, c.lastMs + wait - now);
  }

  failed(key: string, now: number): void {
    const c = this.#fresh(key, now);
    this.#counts.set(key, { failures: (c?.failures ?? 0) + 1, lastMs: now });
    if (this.#counts.size > 100_000) this.#sweep(now);
  }

  clear(key: string): void {
    this.#counts.delete(key);
  }

  #fresh(key: string, now: number): Count | undefined {
    const c = this.#counts.get(key);
    if (c !== undefined && now - c.lastMs > this.#rule.forgetAfterMs) {
      this.#counts.delete(key);
      return undefined;
    }
    return c;
  }

  #sweep(now: number): void {
    for (const [k, c] of this.#counts) if (now - c.lastMs > this.#rule.forgetAfterMs) this.#counts.delete(k);
  }
}

export class LoginLimits {
  readonly #names: Counter;
  readonly #addresses: Counter;

  constructor(names: LimitRule = NAME_RULE, addresses: LimitRule = ADDRESS_RULE) {
    this.#names = new Counter(names);
    this.#addresses = new Counter(addresses);
  }

  /** Ms before this name from this address may try (0: now): the longer of the two waits. */
  waitMs(name: string, address: string, now: number): number {
    return Math.max(this.#names.waitMs(name, now), this.#addresses.waitMs(address, now));
  }

  failed(name: string, address: string, now: number): void {
    this.#names.failed(name, now);
    this.#addresses.failed(address, now);
  }

  succeeded(name: string): void {
    this.#names.clear(name);
  }
}
