import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRecipient } from '../age/keys.ts';
import { generatePrompts } from '../camera/feedback/prompts.ts';
import { ensureDeviceIdentity } from '../camera/identity.ts';
import { boardAudioConfig, boardSourceConfig, loadBoard } from '../config/boards.ts';
import type { Language } from '../config/feedback-schema.ts';
import { validateConfig } from '../config/load.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { privateDirectory, writeFileNoFollow } from '../lib/fs.ts';
import { RELEASE } from '../lib/version.ts';

export interface InitOptions {
  dir: string;
  recipient: string[];
  board: string;
  deviceId?: string;
  force: boolean;
  /** Allow stealth mode (default: allowed; `--no-stealth` forbids it). */
  stealth?: boolean;
  /** Evidence storage (default: `storage` beside the config for sim, /var/lib/bodycam on a real board). */
  storage?: string;
  /** Warning languages in order (default: the board profile's zone). */
  languages?: Language[];
}

/**
 * Each `--recipient` must be a real age recipient, checksum included: a mistyped one would seal footage that no
 * custodian can open. A secret identity given by mistake is never echoed.
 */
export function checkRecipients(recipients: readonly string[]): void {
  if (recipients.length === 0) {
    throw new BodycamError(ErrorCode.USAGE, '--recipient: give at least one custodian recipient (bodycam keygen)');
  }
  for (const r of recipients) {
    try {
      parseRecipient(r);
    } catch (e) {
      const shown = r.toUpperCase().startsWith('AGE-SECRET') ? '[redacted]' : r;
      throw new BodycamError(ErrorCode.USAGE, `--recipient ${shown}: ${(e as Error).message}`);
    }
  }
}

/** A complete, validated config for a camera on `board`. */
export function buildInitialConfig(opts: InitOptions): Record<string, unknown> {
  const board = loadBoard(opts.board);
  const deviceId =
    opts.deviceId ??
    `${board.board}-${
      os
        .hostname()
        .replace(/[^A-Za-z0-9_-]/g, '')
        .slice(0, 40) || 'camera'
    }`;
  return {
    release: RELEASE,
    device: { id: deviceId, board: board.board },
    capture: { source: boardSourceConfig(board) },
    preRecord: { seconds: 30, audio: false },
    recording: { segmentSeconds: 60 },
    encryption: { recipients: opts.recipient },
    storage: { dir: opts.storage ?? (board.board === 'sim' ? 'storage' : '/var/lib/bodycam') },
    gpio: { driver: board.gpioDriver, chip: board.gpioChip, inputs: board.inputs, outputs: board.outputs },
    ...(board.battery === undefined ? {} : { battery: board.battery }),
    warning: { languages: opts.languages ?? board.warningLanguages },
    audio: board.board === 'sim' ? { driver: 'file', dir: 'speaker' } : boardAudioConfig(board),
    stealth: { allowed: opts.stealth ?? true },
    log: { level: 'info' },
  };
}

export async function initCommand(opts: InitOptions): Promise<void> {
  const dir = path.resolve(opts.dir);
  const file = path.join(dir, 'config.json');
  if (existsSync(file) && !opts.force) {
    throw new BodycamError(ErrorCode.USAGE, `${file} already exists; pass --force to overwrite it`);
  }
  checkRecipients(opts.recipient);
  const doc = buildInitialConfig(opts);
  const checked = validateConfig(doc, dir);
  if (!checked.ok) {
    const lines = checked.problems.map((p) => `  ${p.key}: ${p.message}`).join('\n');
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `cannot write a valid config:\n${lines}`, {
      problems: checked.problems,
    });
  }
  await privateDirectory(dir);
  await writeFileNoFollow(file, `${JSON.stringify(doc, null, 2)}\n`, 0o644);
  // The device's signing key; an existing one is kept (`--force` rewrites the config, never the identity).
  const identity = await ensureDeviceIdentity(checked.config.evidence.keyFile);
  if (identity !== null) process.stderr.write(`device key ${identity.keyId}: ${identity.publicFile}\n`);
  // The spoken warning's prompts, from the configured texts (kept if they exist: they may be recorded voices).
  try {
    await generatePrompts(new NodeProcessRunner(), checked.config.warning, { force: false });
  } catch (e) {
    throw new BodycamError(
      ErrorCode.HAL_AUDIO_FAILED,
      `${file} written, but the warning prompts are not: ${(e as Error).message}. Then run \`bodycam prompts --config ${file}\``,
    );
  }
  process.stdout.write(`${file}\n`);
}
