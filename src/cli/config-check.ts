import { loadConfig } from '../config/load.ts';

/** Prints `ok` or throws CONFIG_INVALID whose message lists every problem by key (exit 2). */
export async function configCheckCommand(file: string): Promise<void> {
  const config = loadConfig(file);
  process.stdout.write(
    `ok: ${file} (device ${config.device.id}, source ${config.capture.source.kind}, pre-roll ${config.preRecord.seconds} s, storage ${config.storage.dir})\n`,
  );
}
