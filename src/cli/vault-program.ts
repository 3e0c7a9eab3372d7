/** The `bodycam vault` commands' options (their code, vault.ts, is loaded only when one runs). */
import { type Command, InvalidArgumentError } from 'commander';

interface StoreOpts {
  store: string;
  s3Endpoint?: string;
  s3Credentials?: string;
  s3Region?: string;
  organisation?: string;
}
interface IncidentCli {
  config: string;
  as: string;
  incident: string;
  device?: string;
  org?: string;
}
interface ActorOpts {
  operator?: string;
  signingKey: string;
  lockDays: number;
}

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 36_500)
    throw new InvalidArgumentError('expected whole days from 1 to 36500');
  return n;
}

function storeOptions(c: Command): Command {
  return c
    .requiredOption('--store <s3://BUCKET/PREFIX>', 'the evidence bucket and prefix, as given to dock init')
    .requiredOption('--s3-endpoint <url>', "the S3 service's URL")
    .requiredOption('--s3-credentials <file>', 'an AWS shared-credentials file ([default] keys)')
    .requiredOption('--organisation <org>', "the organisation whose evidence it is (the docks' organisation)")
    .option('--s3-region <region>', 'the S3 region');
}

function actorOptions(c: Command): Command {
  return c
    .option('--operator <name>', 'who acts, written into the custody record (default: $BODYCAM_OPERATOR)')
    .requiredOption('--signing-key <file>', 'Ed25519 private key (PKCS#8 PEM) from provisioning that signs the record')
    .option('--lock-days <days>', 'how long each custody record is locked (COMPLIANCE)', days, 3650);
}

export function addVaultCommands(program: Command): void {
  const vault = program
    .command('vault')
    .description('legal hold, expiry and the signed custody log on the S3 evidence store');
  const hold = vault.command('hold').description('S3 legal hold on every object version of an incident');
  for (const on of [true, false]) {
    actorOptions(
      storeOptions(
        hold
          .command(on ? 'set' : 'release')
          .description(
            on
              ? 'put a legal hold on the incident, recorded in the custody log'
              : 'release the incident’s legal hold, recorded in the custody log',
          ),
      ),
    )
      .requiredOption('--incident <id>', 'the incident')
      .requiredOption('--reason <text>', 'why (a decision, a case number): written into the custody record')
      .option('--device <id>', 'only this device’s incident of that id')
      .action(async (o: StoreOpts & ActorOpts & { incident: string; reason: string; device?: string }) =>
        (await import('./vault.ts')).vaultHoldCommand(on, o),
      );
  }
  actorOptions(
    storeOptions(
      vault
        .command('expire')
        .description('delete every object version past its delete-due date and not held; each deletion is recorded'),
    ),
  )
    .option('--reason <text>', 'written into each custody record', 'retention period over')
    .action(async (o: StoreOpts & ActorOpts & { reason: string }) =>
      (await import('./vault.ts')).vaultExpireCommand(o),
    );
  storeOptions(
    vault.command('log').description('print the custody log and verify its chain and signatures (exit 0 ok, 1 not)'),
  )
    .requiredOption(
      '--public-key <file>',
      'the signing key’s public half (SPKI PEM), from provisioning, never from the store',
    )
    .action(async (o: StoreOpts & { publicKey: string }) => (await import('./vault.ts')).vaultLogCommand(o));

  const incidentOptions = (c: Command): Command =>
    c
      .requiredOption('--config <file>', 'the vault configuration (vault.json, with its store and custody sections)')
      .requiredOption('--as <name>', 'the account whose rights apply (and in whose name it is logged)')
      .requiredOption('--incident <id>', 'the incident')
      .option('--device <id>', 'the device that recorded it (needed when two devices have an incident of that id)')
      .option('--org <org>', "the incident's organisation (default: the account's)");
  incidentOptions(
    vault
      .command('access')
      .description('ask for access to an incident as the web does: exit 0 granted, 3 refused; logged either way'),
  )
    .requiredOption('--reason <text>', 'why (a case number and what for): written into the custody log')
    .option('--authorisation <ref>', "the prosecutor's decision it rests on, after the first 30 days")
    .action(async (o: IncidentCli & { reason: string; authorisation?: string }) =>
      (await import('./vault-custody.ts')).vaultAccessCommand(o),
    );
  incidentOptions(
    vault
      .command('authorise')
      .description(
        "record a prosecutor's decision on an incident (prosecutor role of its organisation; exit 3 if not)",
      ),
  )
    .requiredOption('--reference <ref>', "the decision's reference, as access requests will name it")
    .requiredOption('--reason <text>', 'what the decision allows, and for which case')
    .option('--until <time>', 'when the decision runs out (ISO 8601)')
    .action(async (o: IncidentCli & { reference: string; reason: string; until?: string }) =>
      (await import('./vault-custody.ts')).vaultAuthoriseCommand(o),
    );
  incidentOptions(
    vault.command('share').description('share an incident with another organisation (exit 3 if the role may not)'),
  )
    .requiredOption('--with <org>', 'the organisation that may then ask for access')
    .requiredOption('--reason <text>', 'why: written into the custody log')
    .action(async (o: IncidentCli & { with: string; reason: string }) =>
      (await import('./vault-custody.ts')).vaultShareCommand(o),
    );
  vault
    .command('index')
    .description("the service's index of incidents")
    .command('rebuild')
    .description('rebuild the index of incidents from the bucket alone (accounts and access records are kept)')
    .requiredOption('--config <file>', 'the vault configuration (vault.json, with its store section)')
    .action(async (o: { config: string }) => (await import('./vault-custody.ts')).vaultIndexRebuildCommand(o));

  vault
    .command('serve')
    .description('the custody service: log in, and (coming) search, access by policy, playback in the browser')
    .requiredOption('--config <file>', 'the vault configuration (vault.json)')
    .action(async (o: { config: string }) => (await import('./vault-serve.ts')).vaultServeCommand(o));

  const user = vault.command('user').description("the custody service's accounts (in its index database, vault.json)");
  user
    .command('add')
    .description('add an account: one person, one organisation, one role; the password scrypt-hashed')
    .requiredOption('--config <file>', 'the vault configuration (vault.json)')
    .requiredOption('--name <name>', 'the account name (lower-case letters, digits, ".", "_", "-")')
    .requiredOption('--org <org>', 'the organisation (as the docks name it, e.g. pz5339)')
    .requiredOption('--role <role>', 'investigator, supervisor, custodian, prosecutor or auditor')
    .requiredOption('--password-file <file>', 'a file whose first line is the password (at least 12 characters)')
    .action(async (o: { config: string; name: string; org: string; role: string; passwordFile: string }) =>
      (await import('./vault-users.ts')).vaultUserAddCommand(o),
    );
  user
    .command('list')
    .description('list the accounts: name, role, organisation, since when, disabled')
    .requiredOption('--config <file>', 'the vault configuration (vault.json)')
    .option('--json', 'print {"accounts": [...]}', false)
    .action(async (o: { config: string; json: boolean }) => (await import('./vault-users.ts')).vaultUserListCommand(o));
  for (const disabled of [true, false]) {
    user
      .command(disabled ? 'disable' : 'enable')
      .description(disabled ? 'stop an account from logging in (kept, for the access log)' : 'let it log in again')
      .requiredOption('--config <file>', 'the vault configuration (vault.json)')
      .requiredOption('--name <name>', 'the account name')
      .action(async (o: { config: string; name: string }) =>
        (await import('./vault-users.ts')).vaultUserDisableCommand(o, disabled),
      );
  }
}
