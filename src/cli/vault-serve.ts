/**
 * `bodycam vault serve --config vault.json`: the custody service, until SIGTERM or SIGINT. Its JSON log goes to
 * stdout; one line on stderr says where it listens. With a store in vault.json it serves the incidents (their index
 * rebuilt from the bucket at start and every five minutes), access by policy and the ciphertext of granted footage.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { exitOnceStopped, listenForStop } from '../lib/signals.ts';
import { Accounts } from '../vault/accounts/accounts.ts';
import { VaultServer } from '../vault/serve/server.ts';
import { loadVaultConfig, openVaultIndex } from './vault-config.ts';
import { openCustody } from './vault-custody.ts';

const REFRESH_MS = 5 * 60_000;

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
  const custody = config.store === undefined ? null : await openCustody(o.config, 'web');
  const db = custody?.db ?? (await openVaultIndex(config));
  const stop = listenForStop();
  let refresh: NodeJS.Timeout | undefined;
  if (custody !== null) {
    // The index follows the bucket: rebuilt at start and every few minutes (docks keep writing).
    const again = async () => {
      try {
        const report = await custody.rebuildIndex();
        log.info(
          { incidents: report.incidents, unexpected: report.unexpected.length },
          'index rebuilt from the bucket',
        );
      } catch (e) {
        log.error({ err: e }, 'the index could not be rebuilt from the bucket; it stays as it was');
      }
    };
    await again();
    refresh = setInterval(() => void again(), REFRESH_MS);
    refresh.unref();
  }
  const server = new VaultServer({
    accounts: await Accounts.open(db),
    log,
    host: config.listen.host,
    port: config.listen.port,
    ...(tls === undefined ? {} : { tls }),
    ...(custody === null
      ? {}
      : { incidents: { custody: custody.service, db, store: custody.store, prefix: custody.prefix } }),
  });
  try {
    const url = await server.start();
    process.stderr.write(`vault serving at ${url}; Ctrl-C stops it\n`);
    log.info({ url, signal: await stop.received }, 'stopping');
  } finally {
    stop.dispose();
    clearInterval(refresh);
    await server.stop();
    if (custody !== null) await custody.close();
    else await db.close();
    log.flush();
    exitOnceStopped(log);
  }
}
