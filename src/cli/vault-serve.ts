/**
 * `bodycam vault serve --config vault.json`: the custody service, until SIGTERM or SIGINT. Its JSON log goes to
 * stdout; one line on stderr says where it listens.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { listenForStop } from '../lib/signals.ts';
import { Accounts } from '../vault/accounts/accounts.ts';
import { VaultServer } from '../vault/serve/server.ts';
import { loadVaultConfig, openVaultIndex } from './vault-config.ts';

function readPem(dir: string, file: string, what: string): string {
  const full = path.resolve(dir, file);
  try {
    return readFileSync(full, 'utf8');
  } catch (e) {
    throw new BodycamError(ErrorCode.CONFIG_UNREADABLE, `tls.${what}: cannot read ${full} (${(e as Error).message})`);
  }
}

export async function vaultServeCommand(o: { config: string }): Promise<void> {
  const config = loadVaultConfig(o.config);
  const log = createLogger('info');
  const tls =
    config.tls === undefined
      ? undefined
      : { cert: readPem(config.dir, config.tls.cert, 'cert'), key: readPem(config.dir, config.tls.key, 'key') };
  const db = await openVaultIndex(config);
  const stop = listenForStop();
  const server = new VaultServer({
    accounts: await Accounts.open(db),
    log,
    host: config.listen.host,
    port: config.listen.port,
    ...(tls === undefined ? {} : { tls }),
  });
  try {
    const url = await server.start();
    process.stderr.write(`vault serving at ${url}; Ctrl-C stops it\n`);
    log.info({ url, signal: await stop.received }, 'stopping');
  } finally {
    stop.dispose();
    await server.stop();
    await db.close();
    log.flush();
  }
}
