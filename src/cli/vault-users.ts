/**
 * `bodycam vault user add|list|disable|enable --config FILE`: the custody service's accounts, kept in its index
 * database (vault.json). A password is given in a file (`--password-file`, its first line), never on the command line,
 * where other users of the machine could read it from the process list.
 */
import { readFile } from 'node:fs/promises';
import { BodycamError, ErrorCode, isBodycamError } from '../lib/errors.ts';
import { Accounts } from '../vault/accounts/accounts.ts';
import { loadVaultConfig, openVaultIndex } from './vault-config.ts';

/** Runs `fn` on the accounts; what the operator typed wrong (a name, a role, a weak password) is a usage error. */
async function withAccounts<T>(configFile: string, fn: (a: Accounts) => Promise<T>): Promise<T> {
  const db = await openVaultIndex(loadVaultConfig(configFile));
  try {
    return await fn(await Accounts.open(db));
  } catch (e) {
    if (isBodycamError(e, ErrorCode.ACCOUNT_INVALID) || isBodycamError(e, ErrorCode.ACCOUNT_EXISTS)) {
      throw new BodycamError(ErrorCode.USAGE, e.message, {}, { cause: e });
    }
    throw e;
  } finally {
    await db.close();
  }
}

export async function vaultUserAddCommand(o: {
  config: string;
  name: string;
  org: string;
  role: string;
  passwordFile: string;
}): Promise<void> {
  let password: string;
  try {
    password = (await readFile(o.passwordFile, 'utf8')).split(/\r?\n/)[0] ?? '';
  } catch (e) {
    throw new BodycamError(ErrorCode.USAGE, `--password-file: cannot read ${o.passwordFile}: ${(e as Error).message}`);
  }
  const a = await withAccounts(o.config, (accounts) =>
    accounts.add({ name: o.name, organisation: o.org, role: o.role, password }),
  );
  process.stdout.write(`account ${a.name} added: ${a.role} of ${a.organisation}\n`);
}

export async function vaultUserListCommand(o: { config: string; json: boolean }): Promise<void> {
  const all = await withAccounts(o.config, (accounts) => accounts.list());
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ accounts: all }, null, 2)}\n`);
    return;
  }
  if (all.length === 0) process.stdout.write('no account yet: add one with `bodycam vault user add`\n');
  for (const a of all) {
    process.stdout.write(
      `${a.name}: ${a.role} of ${a.organisation}, since ${a.createdAt}${a.disabled ? ', DISABLED' : ''}\n`,
    );
  }
}

export async function vaultUserDisableCommand(o: { config: string; name: string }, disabled: boolean): Promise<void> {
  await withAccounts(o.config, (accounts) => accounts.setDisabled(o.name, disabled));
  process.stdout.write(`account ${o.name} ${disabled ? 'disabled: it can no longer log in' : 'enabled again'}\n`);
}
