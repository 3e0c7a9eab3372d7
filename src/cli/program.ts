import { Command, InvalidArgumentError } from 'commander';
import { DEVICE_KEY_FILE, DOCK_EVIDENCE_DIR, DOCK_KEY_FILE, IDENTITY_DIR } from '../evidence/paths.ts';
import { RELEASE } from '../lib/version.ts';
import type { DockInitOptions } from './dock.ts';
import type { StoreFlags } from './dock-store.ts';
import { addVaultCommands } from './vault-program.ts';

/*
 * Each command's module is imported when that command runs, so `bodycam run` holds only the daemon's code in memory
 * (the provisioning, doctor, dock and custodian tools stay unloaded: a few MB of the daemon's budget).
 */

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** The `bodycam` command. Usage errors exit 2 (see bodycam.ts); every command has --help. */
export function buildProgram(): Command {
  const program = new Command('bodycam')
    .description('Body-worn camera firmware: pre-record ring, GPIO activation, age-encrypted evidence segments')
    .version(RELEASE, '-V, --version', 'print the bodycam version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('keygen')
    .description('create a custodian age identity (keep it off the cameras) and print its recipient')
    .requiredOption('--out <file>', 'where to write the identity (mode 0600; refuses to overwrite)')
    .action(async (opts: { out: string }) => (await import('./keygen.ts')).keygenCommand(opts.out));

  program
    .command('init')
    .description('write DIR/config.json for a camera on the given board')
    .requiredOption('--dir <dir>', 'directory for the config and (for sim) the storage')
    .requiredOption(
      '--recipient <age1...>',
      'custodian recipient; repeat for several',
      (v: string, acc: string[] | undefined) => [...(acc ?? []), v],
    )
    .option('--board <name>', 'board pin map from hardware/boards (sim, pi4, pi5, cm4, zero2w)', 'sim')
    .option('--device-id <id>', 'device identity (default: derived from the board and host)')
    .option('--force', 'overwrite an existing config.json', false)
    .option('--no-stealth', 'forbid stealth mode (stealth.allowed: false)')
    .action(
      async (opts: {
        dir: string;
        recipient: string[];
        board: string;
        deviceId?: string;
        force: boolean;
        stealth: boolean;
      }) => (await import('./init.ts')).initCommand(opts),
    );

  program
    .command('provision')
    .description(
      "set up a camera for a real board: config, signing identity (0600), prompts, storage, the board's config.txt lines and wiring",
    )
    .requiredOption('--board <name>', 'board profile from hardware/boards (pi4, cm4, pi5, zero2w, sim)')
    .requiredOption('--device-id <id>', "the camera's identity, e.g. zone5-cam017 (letters, digits, - and _)")
    .requiredOption(
      '--recipient <age1...>',
      'custodian recipient; repeat for several',
      (v: string, acc: string[] | undefined) => [...(acc ?? []), v],
    )
    .requiredOption('--dir <dir>', "the camera's config directory (e.g. /etc/bodycam, or a staging directory)")
    .option('--storage <dir>', 'evidence storage on the camera (absolute)', '/var/lib/bodycam')
    .option('--languages <list>', "warning languages in order, e.g. nl,fr,de (default: the board profile's zone)")
    .option('--no-stealth', 'forbid stealth mode (stealth.allowed: false)')
    .option('--force', 'rewrite an existing config.json (the identity is always kept)', false)
    .action(
      async (opts: {
        board: string;
        deviceId: string;
        recipient: string[];
        dir: string;
        storage: string;
        languages?: string;
        stealth: boolean;
        force: boolean;
      }) => (await import('./provision.ts')).provisionCommand(opts),
    );

  program
    .command('doctor')
    .description('check a camera: ffmpeg and encoder, camera, microphone, speaker, GPIO, storage, clock, keys, dock')
    .option('--config <file>', 'config file', '/etc/bodycam/config.json')
    .option('--json', 'print the report as JSON', false)
    .action(async (opts: { config: string; json: boolean }) => (await import('./doctor/index.ts')).doctorCommand(opts));

  program
    .command('identity')
    .description(`create the device's Ed25519 signing key (evidence.keyFile, mode 0600) and its ${DEVICE_KEY_FILE}`)
    .requiredOption('--config <file>', 'config file')
    .action(async (opts: { config: string }) => (await import('./identity.ts')).identityCommand(opts.config));

  program
    .command('upgrade')
    .description(
      'bring a camera up to this release with no question asked (the package runs it): missing prompts, and as root the service user gets its identity, key and storage; evidence is never touched',
    )
    .option('--config <file>', 'config file', '/etc/bodycam/config.json')
    .option('--user <name>', "the camera's service user (as root)", 'bodycam')
    .action(async (opts: { config: string; user: string }) => (await import('./upgrade.ts')).upgradeCommand(opts));

  program
    .command('prompts')
    .description('make the spoken warning prompts (warning-<lang>.wav) from the configured texts with espeak-ng')
    .requiredOption('--config <file>', 'config file')
    .option('--force', 'replace existing prompt files too (they may be recorded voices: kept by default)', false)
    .action(async (opts: { config: string; force: boolean }) =>
      (await import('./prompts.ts')).promptsCommand(opts.config, opts.force),
    );

  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description('validate a config file and list every error with its key')
    .argument('<file>', 'config file (JSON)')
    .action(async (file: string) => (await import('./config-check.ts')).configCheckCommand(file));

  program
    .command('run')
    .description('run the camera daemon (JSON logs on stdout; SIGTERM closes the open segment cleanly)')
    .requiredOption('--config <file>', 'config file')
    .action(async (opts: { config: string }) => (await import('./run.ts')).runCommand(opts.config));

  const ctl = program
    .command('ctl')
    .description('talk to a running daemon over its control socket')
    .requiredOption('--config <file>', 'config file of the running daemon');
  ctl
    .command('status')
    .description('print state, pre-record ring seconds and bytes, open incident (JSON)')
    .action(async () => (await import('./ctl.ts')).ctlStatus(ctl.opts<{ config: string }>().config));
  ctl
    .command('press')
    .description('drive an input line (sim driver only) through the same debounce and pattern logic as hardware')
    .argument('<input>', 'input name from the config (sim board: record, trigger, dock)')
    .option('--count <n>', 'number of presses', integer(1, 10), 1)
    .option('--hold <ms>', 'hold the last press this long (ms)', integer(0, 60_000), 0)
    .action(async (input: string, opts: { count: number; hold: number }) =>
      (await import('./ctl.ts')).ctlPress(ctl.opts<{ config: string }>().config, input, opts.count, opts.hold),
    );

  ctl
    .command('set')
    .description('hold a level input of a sim camera, such as the dock-sense line: set dock on')
    .argument('<input>', 'input name from the config (sim board: dock)')
    .argument('<level>', 'on or off')
    .action(async (input: string, level: string) =>
      (await import('./ctl.ts')).ctlSet(ctl.opts<{ config: string }>().config, input, level),
    );
  ctl
    .command('events')
    .description("print the running camera's event log (activations, warnings, stealth, faults, …), oldest first")
    .option('--json', 'print JSON: {"events": [...]}', false)
    .option('--limit <n>', 'newest N events', integer(1, 10_000), 100)
    .action(async (opts: { json: boolean; limit: number }) =>
      (await import('./ctl.ts')).ctlEvents(ctl.opts<{ config: string }>().config, opts.json, opts.limit),
    );

  const repeat = (v: string, acc: string[] | undefined) => [...(acc ?? []), v];
  program
    .command('verify')
    .description(
      'check evidence offline with public keys given from outside it: what the path is, every file in it, signatures, ' +
        'chains, hashes, completeness (exit 0 ok, 1 not, 2 usage)',
    )
    .argument(
      '<path>',
      "a camera directory, a camera's storage directory, a dock directory, a dock's evidence directory, or s3://BUCKET/PREFIX",
    )
    .option('--json', 'print the report as JSON', false)
    .option(
      '--key <[device=]file>',
      "a device's public key from its provisioning records; repeat for several devices (a dock directory's enrolment records need none)",
      repeat,
    )
    .option(
      '--dock-key <file>',
      `the dock's public key (its ${IDENTITY_DIR}/${DOCK_KEY_FILE}): checks receipts and docking records`,
      repeat,
    )
    .option('--s3-endpoint <url>', "with an s3://BUCKET/PREFIX path: the S3 service's URL")
    .option('--s3-credentials <file>', 'with an s3:// path: an AWS shared-credentials file ([default] keys)')
    .option('--s3-region <region>', 'with an s3:// path: the S3 region')
    .option('--organisation <org>', 'with an s3:// path: the organisation whose evidence to check')
    .option(
      '--custody-key <file>',
      "with an s3:// path: the custody log's public key (SPKI PEM) from provisioning: checks the signed custody log too",
    )
    .action(
      async (
        p: string,
        opts: { json: boolean; key?: string[]; dockKey?: string[]; custodyKey?: string } & StoreFlags,
      ) =>
        (await import('./verify.ts')).verifyCommand(p, {
          ...opts,
          key: opts.key ?? [],
          dockKey: opts.dockKey ?? [],
        }),
    );

  program
    .command('export')
    .description('verify, decrypt (custodian identity) and join one incident into FILE.mp4, with a report FILE.json')
    .requiredOption('--identity <file>', "a custodian's age identity (AGE-SECRET-KEY-1…)")
    .requiredOption('--incident <id>', 'incident id (bodycam list)')
    .requiredOption('--out <file.mp4>', 'the MP4 to write; the report goes beside it as .json')
    .option(
      '--from <path>',
      'a camera directory or its storage, a dock directory or its evidence directory, or s3://BUCKET/PREFIX',
    )
    .option('--config <file>', 'take the evidence from this camera config (its storage.dir)')
    .option('--device <id>', 'the device whose incident it is, when the id is present under several')
    .option(
      '--key <[device=]file>',
      "the device's public key from its provisioning records; repeat for several",
      repeat,
    )
    .option('--dock-key <file>', "the dock's public key, for receipts and docking records", repeat)
    .option('--force', 'export even an incident that does not verify (the report says so)', false)
    .option('--s3-endpoint <url>', "with --from s3://BUCKET/PREFIX: the S3 service's URL")
    .option('--s3-credentials <file>', 'with --from s3://…: an AWS shared-credentials file ([default] keys)')
    .option('--s3-region <region>', 'with --from s3://…: the S3 region')
    .option('--organisation <org>', 'with --from s3://…: the organisation whose evidence it is')
    .option(
      '--custody-key <file>',
      "with --from s3://…: the custody log's public key from provisioning: the report carries the incident's access history",
    )
    .action(
      async (
        opts: {
          identity: string;
          incident: string;
          out: string;
          from?: string;
          config?: string;
          device?: string;
          key?: string[];
          dockKey?: string[];
          force: boolean;
          custodyKey?: string;
        } & StoreFlags,
      ) => (await import('./export.ts')).exportCommand({ ...opts, key: opts.key ?? [], dockKey: opts.dockKey ?? [] }),
    );

  const dock = program.command('dock').description('dock station: PKI, broker, camera enrolment, offload');
  dock
    .command('init')
    .description('create a dock directory: CA, broker certificate and ACL, dock agent certificate, dock signing key')
    .requiredOption('--dir <dir>', 'the dock directory (created if needed)')
    .option('--host <name>', 'the name or address cameras use to reach the broker (in its certificate)', 'localhost')
    .option('--port <n>', 'the broker port (MQTT 5 over TLS)', integer(1, 65535), 8883)
    .option(
      '--bind <addr>',
      'the address the broker listens on; a real dock binds its LAN address (the default is for a test dock)',
      '127.0.0.1',
    )
    .option(
      '--external',
      'the site runs Mosquitto itself (with broker/mosquitto.conf); the dock does not start it',
      false,
    )
    .option('--force', 'rewrite an existing dock.json, broker config and certificates (keys are always kept)', false)
    .option(
      '--store <where>',
      `where evidence is kept: "filesystem" (DOCKDIR/${DOCK_EVIDENCE_DIR}) or s3://BUCKET/PREFIX`,
      'filesystem',
    )
    .option('--s3-endpoint <url>', "with --store s3://…: the S3 service's URL (a bucket with Object Lock)")
    .option('--s3-credentials <file>', 'with --store s3://…: an AWS shared-credentials file ([default] keys)')
    .option('--s3-region <region>', 'with --store s3://…: the region (default us-east-1)')
    .option('--organisation <org>', 'with --store s3://…: the police zone or service, first part of every key')
    .option('--central <host:port>', 'bridge the fleet status to this central broker (MQTT 5 over TLS)')
    .option('--site <name>', 'with --central: this site, whose status arrives at the centre under sites/<name>/')
    .option('--central-ca <file>', "with --central: the central broker's CA certificate")
    .option('--central-cert <file>', "with --central: this site's bridge certificate (CN bridge-<site>)")
    .option('--central-key <file>', "with --central: that certificate's key")
    .action(async (opts: DockInitOptions) => (await import('./dock.ts')).dockInitCommand(opts));
  dock
    .command('enroll')
    .description("issue a camera's client certificate and write the dock section of its config")
    .requiredOption('--dir <dir>', 'the dock directory')
    .requiredOption('--device-config <file>', "the camera's config.json (it must have its signing key)")
    .action(async (opts: { dir: string; deviceConfig: string }) => (await import('./dock.ts')).dockEnrollCommand(opts));
  dock
    .command('withdraw')
    .description(
      'withdraw a camera for good: its certificate revoked (the broker refuses it), its enrolment record put aside',
    )
    .requiredOption('--dir <dir>', 'the dock directory')
    .requiredOption('--device <id>', 'the camera to withdraw')
    .requiredOption('--reason <text>', 'why (recorded with the withdrawal), e.g. "reported stolen, PV 123/2026"')
    .action(async (opts: { dir: string; device: string; reason: string }) =>
      (await import('./dock-withdraw.ts')).dockWithdrawCommand(opts),
    );
  dock
    .command('run')
    .description(
      'run the dock station: the broker (unless external) and the agent that pulls, verifies and stores footage',
    )
    .requiredOption('--dir <dir>', 'the dock directory')
    .action(async (opts: { dir: string }) => (await import('./dock-station.ts')).dockRunCommand(opts.dir));
  dock
    .command('update')
    .description('hold a signed release or config bundle for cameras: offered when they dock, checked by each camera')
    .requiredOption('--dir <dir>', 'the dock directory')
    .requiredOption('--bundle <file>', 'a bundle made by `bodycam bundle pack` (release or config)')
    .option(
      '--device <id>',
      'a camera to take it; repeat for several (a release without one: every camera of this dock; a config: one)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--group <name>', 'a release for a named group: with --device, those cameras become it; without, as it was')
    .action(async (opts: { dir: string; bundle: string; device: string[]; group?: string }) =>
      (await import('./updates.ts')).dockUpdateCommand(opts),
    );
  dock
    .command('status')
    .description('what each camera has handed over: segments stored, receiving, refused (and why), audit log')
    .requiredOption('--dir <dir>', 'the dock directory')
    .option('--json', 'print JSON: {"devices": [...]}', false)
    .action(async (opts: { dir: string; json: boolean }) =>
      (await import('./dock-station.ts')).dockStatusCommand(opts.dir, opts.json),
    );

  const bundle = program.command('bundle').description('signed release and config bundles, delivered at the dock');
  bundle
    .command('keygen')
    .description('write an Ed25519 signing key (FILE, 0600) and its public key (FILE.pub) for releases or site configs')
    .requiredOption('--out <file>', 'where to write the private key (never overwritten)')
    .action(async (opts: { out: string }) => (await import('./updates.ts')).bundleKeygenCommand(opts.out));
  bundle
    .command('pack')
    .description("sign a release directory (package.json, dist/, …) or one camera's config file into a bundle")
    .requiredOption('--kind <kind>', 'release or config', (v: string) => {
      if (v !== 'release' && v !== 'config') throw new InvalidArgumentError('release or config');
      return v;
    })
    .requiredOption('--bundle-version <version>', 'its semantic version (a config counts its own: 1.0.0, 1.0.1, …)')
    .requiredOption('--key <file>', 'the signing key (release key, or the site config key)')
    .requiredOption('--from <path>', 'the release directory, or the config file')
    .requiredOption('--out <file>', 'the bundle to write')
    .option('--allow-downgrade', 'let it replace a newer version (a withdrawn release); signed into the bundle', false)
    .action(async (opts: import('./updates.ts').PackOptions) => (await import('./updates.ts')).bundlePackCommand(opts));

  program
    .command('list')
    .description('list incidents and their segments')
    .requiredOption('--config <file>', 'config file')
    .option('--json', 'print JSON: {"incidents": [...]}', false)
    .action(async (opts: { config: string; json: boolean }) =>
      (await import('./list.ts')).listCommand(opts.config, opts.json),
    );

  const fleet = program
    .command('fleet')
    .description('the fleet at the centre: the status every dock publishes for each of its cameras');
  fleet
    .command('status')
    .description('every camera of every site bridged to the central broker, what needs attention first')
    .requiredOption('--broker <url>', 'the central broker, mqtts://HOST:PORT')
    .requiredOption('--ca <file>', "the central broker's CA certificate")
    .requiredOption('--cert <file>', 'a fleet reader certificate (the central ACL lets it read sites/#)')
    .requiredOption('--key <file>', "that certificate's key")
    .option('--json', 'print JSON: {"cameras": [...], "invalid": [...]}', false)
    .option('--wait-ms <n>', 'how long to collect status after subscribing (ms)', integer(100, 600_000), 1500)
    .option('--connect-ms <n>', 'how long to try to reach the broker (ms)', integer(100, 600_000), 10_000)
    .action(
      async (opts: {
        broker: string;
        ca: string;
        cert: string;
        key: string;
        json: boolean;
        waitMs: number;
        connectMs: number;
      }) => (await import('./fleet.ts')).fleetStatusCommand(opts),
    );

  addVaultCommands(program);

  return program;
}
