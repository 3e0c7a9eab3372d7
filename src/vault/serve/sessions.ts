/**
 * Login sessions of the custody service, in memory (a restart logs everyone out, which is the safe side): a random
 * 256-bit id in an HttpOnly, SameSite=Strict cookie (Secure over TLS), a CSRF token per session that every state-
 * changing request must carry, an idle timeout and an absolute one. Ids are compared by map lookup of their SHA-256,
 * so the table never holds a usable id and a lookup's timing says nothing of the ids.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Account } from '../accounts/accounts.ts';

export interface Session {
  account: Account;
  csrf: string;
  startedMs: number;
  seenMs: number;
}

export const IDLE_MS = 15 * 60_000;
export const ABSOLUTE_MS = 8 * 3_600_000;

const digest = (id: string): string => createHash('sha256').update(id).digest('hex');

export class Sessions {
  readonly #byDigest = new Map<string, Session>();

  /** A new session for `account`: its id (for the cookie, never stored) and its record. */
  start(account: Account, now: number): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const session = { account, csrf: randomBytes(32).toString('base64url'), startedMs: now, seenMs: now };
    this.#byDigest.set(digest(id), session);
    return { id, session };
  }

  /** The live session of `id` (touched), or null when there is none, it idled out or ran out. */
  get(id: string | undefined, now: number): Session | null {
    if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const key = digest(id);
    const s = this.#byDigest.get(key);
    if (s === undefined) return null;
    if (now - s.seenMs > IDLE_MS || now - s.startedMs >= ABSOLUTE_MS) {
      this.#byDigest.delete(key);
      return null;
    }
    s.seenMs = now;
    return s;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.#byDigest.delete(digest(id));
  }

  /** Ends every session of an account (disabled, or its password changed). */
  endAll(name: string): void {
    for (const [k, s] of this.#byDigest) if (s.account.name === name) this.#byDigest.delete(k);
  }

  get size(): number {
    return this.#byDigest.size;
  }
}
