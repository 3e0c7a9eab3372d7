/**
 * The vault's accounts: one per person, in one organisation, with one role, in the same database as the incident
 * index (either driver) but never touched by its rebuild (accounts are not in the bucket). Passwords are scrypt
 * hashes (password.ts). Authentication costs the same for a name that does not exist (a hash is checked against a
 * fixed dummy), so the answer's timing does not tell which names exist.
 */
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import type { SqlClient } from '../index/sql.ts';
import { hashPassword, verifyPassword } from './password.ts';

/** What a person may do is decided by their role and organisation (the access policy); the roles of the field. */
export const ROLES = ['investigator', 'supervisor', 'custodian', 'prosecutor', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const ACCOUNT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const ORGANISATION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export interface Account {
  name: string;
  organisation: string;
  role: Role;
  createdAt: string;
  disabled: boolean;
}

export function accountsSchema(dialect: SqlClient['dialect']): readonly string[] {
  const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
  return [
    `CREATE TABLE IF NOT EXISTS accounts (
    name ${text} PRIMARY KEY,
    organisation ${text} NOT NULL,
    role TEXT NOT NULL,
    password TEXT NOT NULL,
    created_at ${text} NOT NULL,
    disabled INTEGER NOT NULL
  )`,
  ];
}

/** A hash no password matches, checked for unknown names so that they cost what known ones do. */
export const DUMMY_HASH = 'scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

interface Row {
  name: string;
  organisation: string;
  role: string;
  password: string;
  createdAt: string;
  disabled: number;
}

const invalid = (message: string): BodycamError => new BodycamError(ErrorCode.ACCOUNT_INVALID, message);

export class Accounts {
  readonly #db: SqlClient;
  readonly #now: () => number;

  private constructor(db: SqlClient, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** The accounts of the database behind `db`, their table made when it is not there yet. */
  static async open(db: SqlClient, now: () => number = Date.now): Promise<Accounts> {
    for (const sql of accountsSchema(db.dialect)) await db.run(sql);
    return new Accounts(db, now);
  }

  async add(a: { name: string; organisation: string; role: string; password: string }): Promise<Account> {
    if (!ACCOUNT_NAME.test(a.name)) {
      throw invalid(`account name "${a.name}": lower-case letters, digits, ".", "_" and "-", at most 64`);
    }
    if (!ORGANISATION_NAME.test(a.organisation)) {
      throw invalid(
        `organisation "${a.organisation}": letters, digits, "-" and "_", at most 64 (as the docks name it)`,
      );
    }
    if (!(ROLES as readonly string[]).includes(a.role)) {
      throw invalid(`role "${a.role}": one of ${ROLES.join(', ')}`);
    }
    const hash = await hashPassword(a.password);
    const createdAt = new Date(this.#now()).toISOString();
    await this.#db.transaction(async (tx) => {
      const had = await tx.all<{ name: string }>('SELECT name FROM accounts WHERE name = ?', [a.name]);
      if (had.length > 0) throw new BodycamError(ErrorCode.ACCOUNT_EXISTS, `account ${a.name} exists already`);
      await tx.run(
        'INSERT INTO accounts (name, organisation, role, password, created_at, disabled) VALUES (?, ?, ?, ?, ?, 0)',
        [a.name, a.organisation, a.role, hash, createdAt],
      );
    });
    return { name: a.name, organisation: a.organisation, role: a.role as Role, createdAt, disabled: false };
  }

  async get(name: string): Promise<Account | null> {
    const [row] = await this.#db.all<Row>(
      'SELECT name, organisation, role, password, created_at AS "createdAt", disabled FROM accounts WHERE name = ?',
      [name],
    );
    return row === undefined ? null : account(row);
  }

  async list(): Promise<Account[]> {
    const rows = await this.#db.all<Row>(
      'SELECT name, organisation, role, password, created_at AS "createdAt", disabled FROM accounts ORDER BY name',
    );
    return rows.map(account);
  }

  /** The account when `password` is its password and it is not disabled; else null, after the same work. */
  async authenticate(name: string, password: string): Promise<Account | null> {
    const [row] = ACCOUNT_NAME.test(name)
      ? await this.#db.all<Row>(
          'SELECT name, organisation, role, password, created_at AS "createdAt", disabled FROM accounts WHERE name = ?',
          [name],
        )
      : [];
    const ok = await verifyPassword(password, row?.password ?? DUMMY_HASH);
    return ok && row !== undefined && row.disabled === 0 ? account(row) : null;
  }

  async setDisabled(name: string, disabled: boolean): Promise<void> {
    if ((await this.get(name)) === null) throw invalid(`no account ${name}`);
    await this.#db.run('UPDATE accounts SET disabled = ? WHERE name = ?', [disabled ? 1 : 0, name]);
  }
}

function account(row: Row): Account {
  return {
    name: row.name,
    organisation: row.organisation,
    role: row.role as Role,
    createdAt: row.createdAt,
    disabled: Number(row.disabled) !== 0,
  };
}
