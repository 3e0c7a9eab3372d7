import type { Database } from '../../lib/sqlite.ts';

/** How a signing key came to be: made with the camera's config (provision, init, identity), or by the camera itself. */
export type KeyOrigin = 'provisioned' | 'created-at-start';

export interface DeviceKeyRow {
  keyId: string;
  publicPem: string;
  origin: KeyOrigin;
  /** The release that first signed with it. */
  release: string;
  firstUsedAt: string;
  /** When a dock confirmed it, and that dock's key id; null until then. */
  confirmedAt: string | null;
  confirmedBy: string | null;
}

const COLS = `key_id AS keyId, public_pem AS publicPem, origin, release, first_used_at AS firstUsedAt,
  confirmed_at AS confirmedAt, confirmed_by AS confirmedBy`;

/**
 * The signing keys this camera has used. A key the camera made for itself at start is "to be confirmed by the
 * dock": the dock enrolled the camera without it (or before it existed), so the camera announces it at its next
 * docking, and only the dock's confirmation marks it known there.
 */
export class DeviceKeys {
  readonly #db: Database;
  readonly #wallNow: () => number;

  constructor(db: Database, wallNow: () => number) {
    this.#db = db;
    this.#wallNow = wallNow;
  }

  /** Records the key in use at this start (once per key: its first use and origin are kept). */
  use(key: { keyId: string; publicPem: string; origin: KeyOrigin; release: string }): DeviceKeyRow {
    this.#db.run(
      `INSERT INTO device_keys (key_id, public_pem, origin, release, first_used_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key_id) DO NOTHING`,
      key.keyId,
      key.publicPem,
      key.origin,
      key.release,
      new Date(this.#wallNow()).toISOString(),
    );
    const row = this.get(key.keyId);
    if (row === undefined) throw new Error(`device key ${key.keyId} was not recorded`);
    return row;
  }

  get(keyId: string): DeviceKeyRow | undefined {
    return this.#db.get<DeviceKeyRow>(`SELECT ${COLS} FROM device_keys WHERE key_id = ?`, keyId);
  }

  /** Keys to announce at the next docking: made by the camera and not yet confirmed by a dock, oldest first. */
  toAnnounce(): DeviceKeyRow[] {
    return this.#db.all<DeviceKeyRow>(
      `SELECT ${COLS} FROM device_keys WHERE origin = 'created-at-start' AND confirmed_at IS NULL ORDER BY first_used_at`,
    );
  }

  /** A dock (identified by its key id) confirmed the key: it will verify this camera's evidence against it. */
  confirm(keyId: string, dockKeyId: string): void {
    this.#db.run(
      'UPDATE device_keys SET confirmed_at = ?, confirmed_by = ? WHERE key_id = ? AND confirmed_at IS NULL',
      new Date(this.#wallNow()).toISOString(),
      dockKeyId,
      keyId,
    );
  }
}
