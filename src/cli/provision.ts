/**
 * `bodycam provision`: one command turns a board profile into a ready camera directory: the config (every value
 * checked), the signing identity (private key mode 0600), the warning prompts, the storage directory, and beside
 * them the board's config.txt lines and wiring table for the technician. `bodycam init` is the same for `sim`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { generatePrompts } from '../camera/feedback/prompts.ts';
import { ensureDeviceIdentity } from '../camera/identity.ts';
import { type BoardMap, knownBoards, loadBoard, wiringSummary } from '../config/boards.ts';
import { LANGUAGES, type Language } from '../config/feedback-schema.ts';
import { validateConfig } from '../config/load.ts';
import { DEVICE_ID, DEVICE_ID_RULE } from '../config/schema.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import { BodycamError, ErrorCode, errnoCode, isBodycamError } from '../lib/errors.ts';
import { privateDirectory, writeFileNoFollow } from '../lib/fs.ts';
import { handOver } from './hand-over.ts';
import { buildInitialConfig, checkRecipients } from './init.ts';
import { SERVICE_USER, serviceAccountForRoot } from './service-user.ts';

export interface ProvisionOptions {
  board: string;
  deviceId: string;
  recipient: string[];
  dir: string;
  /** Evidence storage on the device (default /var/lib/bodycam). */
  storage?: string;
  /** Warning languages in order (default: the board profile's zone). */
  languages?: string;
  stealth?: boolean;
  force: boolean;
}

function usage(message: string): BodycamError {
  return new BodycamError(ErrorCode.USAGE, message);
}

/** Every value a technician typed, checked before anything is written; each error names the option and the fix. */
export function checkProvisionOptions(opts: ProvisionOptions): { board: BoardMap; languages?: Language[] } {
  if (!knownBoards().includes(opts.board)) {
    throw usage(
      `--board ${opts.board}: no such board profile; choose one of ${knownBoards().join(', ')} (hardware/boards)`,
    );
  }
  const board = loadBoard(opts.board);
  if (!DEVICE_ID.test(opts.deviceId)) {
    throw usage(`--device-id ${JSON.stringify(opts.deviceId)}: use ${DEVICE_ID_RULE} (e.g. zone5-cam017)`);
  }
  checkRecipients(opts.recipient);
  if (opts.storage !== undefined && !path.isAbsolute(opts.storage)) {
    throw usage(`--storage ${opts.storage}: give an absolute path (e.g. /var/lib/bodycam)`);
  }
  if (opts.languages === undefined) return { board };
  const languages = opts.languages.split(',').map((l) => l.trim());
  const unknown = languages.find((l) => !(LANGUAGES as readonly string[]).includes(l));
  if (unknown !== undefined || languages.length === 0) {
    throw usage(`--languages ${opts.languages}: use a comma-separated list of ${LANGUAGES.join(', ')} (e.g. nl,fr,de)`);
  }
  return { board, languages: languages as Language[] };
}

/** The technician's sheet for this board: config.txt lines, then the wiring. */
function boardSheet(board: BoardMap): { configTxt: string; wiring: string } {
  const boot = board.configTxt.map((l) => `# ${l.why}\n${l.line}\n`).join('');
  return {
    configTxt: `# bodycam ${board.board}: add to /boot/firmware/config.txt, then reboot\n${boot}`,
    wiring: `bodycam ${board.board}: ${board.description}\n\n${wiringSummary(board).join('\n')}\n`,
  };
}

export async function provisionCommand(opts: ProvisionOptions): Promise<void> {
  const { board, languages } = checkProvisionOptions(opts);
  const dir = path.resolve(opts.dir);
  const file = path.join(dir, 'config.json');
  if (existsSync(file) && !opts.force) {
    throw usage(`${file} already exists; pass --force to rewrite the config (the identity is always kept)`);
  }
  const doc = buildInitialConfig({
    dir,
    board: opts.board,
    deviceId: opts.deviceId,
    recipient: opts.recipient,
    force: opts.force,
    storage: opts.storage ?? '/var/lib/bodycam',
    ...(opts.stealth === undefined ? {} : { stealth: opts.stealth }),
    ...(languages === undefined ? {} : { languages }),
  });
  const checked = validateConfig(doc, dir);
  if (!checked.ok) {
    const lines = checked.problems.map((p) => `  ${p.key}: ${p.message}`).join('\n');
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `the config for ${opts.deviceId} would not be valid:\n${lines}`);
  }
  const config = checked.config;
  // Run as root on a camera with the package: the service user gets its key and storage (and may already own them).
  const account = serviceAccountForRoot();
  const trusted = account === null ? [] : [account.uid];
  // Every directory written into is the technician's own: a symlink or a file planted by a local user is refused.
  await privateDirectory(dir);
  try {
    await privateDirectory(config.storage.dir, 0o700, trusted);
  } catch (e) {
    if (isBodycamError(e)) throw e;
    throw usage(
      `--storage ${config.storage.dir}: cannot create it (${errnoCode(e) ?? (e as Error).message}); run as root or choose another`,
    );
  }
  await writeFileNoFollow(file, `${JSON.stringify(doc, null, 2)}\n`, 0o644);
  const keyId = (await ensureDeviceIdentity(config.evidence.keyFile, trusted))?.keyId ?? 'kept';
  const sheet = boardSheet(board);
  await writeFileNoFollow(path.join(dir, 'config.txt.add'), sheet.configTxt, 0o644);
  await writeFileNoFollow(path.join(dir, 'WIRING.txt'), sheet.wiring, 0o644);
  try {
    await generatePrompts(new NodeProcessRunner(), config.warning, { force: false });
  } catch (e) {
    throw new BodycamError(
      ErrorCode.HAL_AUDIO_FAILED,
      `${file} written, but the warning prompts are not: ${(e as Error).message}. Then run \`bodycam prompts --config ${file}\``,
    );
  }
  const handedOver = account === null ? [] : await handOver(config, file, account);
  const owner =
    account !== null
      ? `  owner      ${account.name} (the service user) owns the identity and the storage`
      : process.getuid?.() === 0
        ? `  owner      root: no ${SERVICE_USER} user here (install the package, then \`bodycam upgrade --config ${file}\`)`
        : `  owner      ${process.env['USER'] ?? `uid ${process.getuid?.()}`} (run the camera as this user)`;
  process.stdout.write(
    [
      `provisioned ${opts.deviceId} for ${board.board} (${board.description})`,
      `  config     ${file}`,
      `  identity   ${config.evidence.keyFile} (signing key ${keyId}, mode 600)`,
      `  prompts    ${config.warning.promptsDir} (${config.warning.languages.join(', ')})`,
      `  storage    ${config.storage.dir}`,
      `  boot       ${path.join(dir, 'config.txt.add')} (${board.configTxt.length} lines for /boot/firmware/config.txt)`,
      `  wiring     ${path.join(dir, 'WIRING.txt')}`,
      owner,
      ...handedOver.map((l) => `             ${l}`),
      `next: \`bodycam doctor --config ${file}\`, then \`systemctl enable --now bodycam\` (the package's unit);`,
      '      at the dock: `bodycam dock enroll --device-config CONFIG`',
      '',
    ].join('\n'),
  );
}
