/**
 * The custody service's accounts on both index drivers (SQLite, and a throw-away PostgreSQL 15 cluster), and their
 * command line (`bodycam vault user …` on a SQLite vault.json, through the built CLI).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { Accounts } from '../../../src/vault/accounts/accounts.ts';
import { cli } from '../../harness/daemon.ts';
import { driverTest, INDEX_DRIVERS, sqlite } from '../../harness/index-drivers.ts';

const GOOD = 'a long enough passphrase';

describe.each(INDEX_DRIVERS)('vault accounts on $name', (driver) => {
  const test = driverTest(driver);

  test('adds an account, authenticates it by its password only, and refuses a second one of the same name', async () => {
    const db = await driver.open();
    const accounts = await Accounts.open(db, () => Date.UTC(2026, 11, 5));
    const a = await accounts.add({ name: 'j.peeters', organisation: 'pz5339', role: 'investigator', password: GOOD });
    expect(a).toEqual({
      name: 'j.peeters',
      organisation: 'pz5339',
      role: 'investigator',
      createdAt: '2026-12-05T00:00:00.000Z',
      disabled: false,
    });
    expect(await accounts.authenticate('j.peeters', GOOD)).toEqual(a);
    expect(await accounts.authenticate('j.peeters', `${GOOD}!`)).toBeNull();
    expect(await accounts.authenticate('nobody', GOOD)).toBeNull();
    expect(await accounts.authenticate("j.peeters' OR '1'='1", GOOD)).toBeNull();
    await expect(
      accounts.add({ name: 'j.peeters', organisation: 'pz5340', role: 'auditor', password: GOOD }),
    ).rejects.toMatchObject({ code: 'ACCOUNT_EXISTS' });
    expect(await accounts.get('j.peeters')).toEqual(a);
    // Opened again (a restart): the table is there, the account with it.
    const again = await Accounts.open(db);
    expect((await again.list()).map((x) => x.name)).toEqual(['j.peeters']);
    await db.close();
  }, 60_000);

  test('a disabled account cannot log in, and is kept; enabled, it can again', async () => {
    const db = await driver.open();
    const accounts = await Accounts.open(db);
    await accounts.add({ name: 'prosecutor1', organisation: 'pz5339', role: 'prosecutor', password: GOOD });
    await accounts.setDisabled('prosecutor1', true);
    expect(await accounts.authenticate('prosecutor1', GOOD)).toBeNull();
    expect((await accounts.get('prosecutor1'))?.disabled).toBe(true);
    await accounts.setDisabled('prosecutor1', false);
    expect((await accounts.authenticate('prosecutor1', GOOD))?.role).toBe('prosecutor');
    await expect(accounts.setDisabled('ghost', true)).rejects.toMatchObject({ code: 'ACCOUNT_INVALID' });
    await db.close();
  }, 60_000);

  const refusals = [
    ['a name with capitals', { name: 'Admin' }, /account name/],
    ['an organisation with a slash', { organisation: 'pz/5339' }, /organisation/],
    ['an unknown role', { role: 'admin' }, /role "admin": one of investigator, supervisor/],
    ['a short password', { password: 'short' }, /at least 12/],
  ] as const;
  for (const [what, change, why] of refusals) {
    test(`refuses ${what}, storing nothing`, async () => {
      const db = await driver.open();
      const accounts = await Accounts.open(db);
      const input = { name: 'x.user', organisation: 'pz5339', role: 'auditor', password: GOOD, ...change };
      await expect(accounts.add(input)).rejects.toMatchObject({
        code: 'ACCOUNT_INVALID',
        message: expect.stringMatching(why),
      });
      expect(await accounts.list()).toEqual([]);
      await db.close();
    });
  }
});

describe('bodycam vault user', () => {
  const test = driverTest(sqlite);
  test('adds, lists, disables and enables accounts of a vault.json; refuses what is wrong with exit 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-vault-users-'));
    const config = path.join(dir, 'vault.json');
    writeFileSync(config, JSON.stringify({ version: 1, index: { kind: 'sqlite', file: 'vault.sqlite' } }));
    const pw = path.join(dir, 'pw');
    writeFileSync(pw, `${GOOD}\n`);
    const add = (name: string, role: string, file = pw) =>
      cli([
        'vault',
        'user',
        'add',
        '--config',
        config,
        '--name',
        name,
        '--org',
        'pz5339',
        '--role',
        role,
        '--password-file',
        file,
      ]);
    const first = add('c.janssens', 'custodian');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('account c.janssens added: custodian of pz5339\n');
    expect(add('c.janssens', 'custodian')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('exists already'),
    });
    expect(add('someone', 'emperor')).toMatchObject({ code: 2, stderr: expect.stringContaining('role "emperor"') });
    writeFileSync(path.join(dir, 'weak'), 'hunter2\n');
    expect(add('weak', 'auditor', path.join(dir, 'weak'))).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('at least 12'),
    });
    const listed = cli(['vault', 'user', 'list', '--config', config]);
    expect(listed.stdout).toMatch(/^c\.janssens: custodian of pz5339, since \d{4}-.*Z\n$/);
    expect(listed.stdout).not.toContain(GOOD);
    const json = JSON.parse(cli(['vault', 'user', 'list', '--config', config, '--json']).stdout);
    expect(json.accounts).toEqual([
      expect.objectContaining({ name: 'c.janssens', role: 'custodian', disabled: false }),
    ]);
    expect(JSON.stringify(json)).not.toMatch(/scrypt/);
    expect(cli(['vault', 'user', 'disable', '--config', config, '--name', 'c.janssens']).code).toBe(0);
    expect(cli(['vault', 'user', 'list', '--config', config]).stdout).toContain(', DISABLED');
    expect(cli(['vault', 'user', 'enable', '--config', config, '--name', 'c.janssens']).code).toBe(0);
    writeFileSync(config, JSON.stringify({ version: 1, index: { kind: 'mysql' } }));
    expect(cli(['vault', 'user', 'list', '--config', config])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('index'),
    });
  }, 60_000);
});
