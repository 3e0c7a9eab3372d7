import { Camera } from '../camera/main.ts';
import { loadConfig } from '../config/load.ts';
import { isBodycamError } from '../lib/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { limitThreadPool } from '../lib/memory.ts';

/** Runs until SIGTERM or SIGINT; then closes the open segment cleanly and exits 0. */
export async function runCommand(configFile: string): Promise<void> {
  limitThreadPool();
  const config = loadConfig(configFile);
  const logger = createLogger(config.log.level);
  const camera = new Camera(config, logger, { configFile });
  try {
    await camera.start();
  } catch (e) {
    // A known failure (ffmpeg missing, index unreadable) is logged by code and message, without a stack trace.
    if (isBodycamError(e)) logger.fatal({ code: e.code, details: e.details }, `start-up failed: ${e.message}`);
    else logger.fatal({ err: e }, 'start-up failed');
    await camera.stop().catch(() => undefined);
    throw e;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await camera.stop();
  logger.flush();
}
