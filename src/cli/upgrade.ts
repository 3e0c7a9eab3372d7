/**
 * `bodycam upgrade`: brings a camera's config directory up to this release, with no question asked; the Debian
 * package runs it after every install (as root) and it may be run by hand. It makes the warning prompts that are
 * missing (from the configured texts, with espeak-ng; recordings already there are kept), and, as root, gives the
 * service user its identity directory, key and storage. It never touches evidence and never makes a signing key:
 * a camera without one makes it at its next start, to be confirmed by its dock. Exit 0 when the camera is ready,
 * 1 when something is left for the camera to show as a fault (each named with its fix), 2 for a config it cannot read.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeMissingPrompts, generatePrompts, loadWarningClips } from '../camera/feedback/prompts.ts';
import { loadConfig } from '../config/load.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import { RELEASE } from '../lib/version.ts';
import { handOver } from './hand-over.ts';
import { lookupAccount, SERVICE_USER } from './service-user.ts';

export interface UpgradeOptions {
  config: string;
  /** The service user (default `bodycam`). */
  user?: string;
}

export async function upgradeCommand(opts: UpgradeOptions): Promise<void> {
  const file = path.resolve(opts.config);
  const user = opts.user ?? SERVICE_USER;
  const config = loadConfig(file);
  const out: string[] = [`bodycam ${RELEASE}: upgrading ${file} (device ${config.device.id})`];
  let left = 0;
  if (config.warning.enabled) {
    try {
      const { written } = await generatePrompts(new NodeProcessRunner(), config.warning, { force: false });
      for (const f of written) out.push(`  made      ${f}`);
    } catch (e) {
      out.push(`  prompts   NOT made: ${(e as Error).message}`);
    }
    const { missing } = await loadWarningClips(config.warning);
    if (missing.length > 0) {
      const { message, fix } = describeMissingPrompts(missing, file);
      out.push(`  prompts   ${message}; fix: ${fix}`);
      left += 1;
    } else {
      out.push(`  prompts   ${config.warning.languages.join(', ')} in ${config.warning.promptsDir}`);
    }
  }
  if (process.getuid?.() === 0) {
    const account = lookupAccount(user);
    if (account === null) {
      out.push(`  owner     no user ${user} on this system: files keep their owners`);
    } else {
      for (const line of await handOver(config, file, account)) out.push(`  owner     ${line}`);
    }
  } else {
    out.push(`  owner     not root: files keep their owners (run as root to give them to ${user})`);
  }
  out.push(
    existsSync(config.evidence.keyFile)
      ? `  identity  ${config.evidence.keyFile}`
      : `  identity  no key yet: the camera makes ${config.evidence.keyFile} at its next start and announces it to its dock`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  if (left > 0) process.exitCode = 1;
}
