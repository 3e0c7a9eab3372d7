import { Camera } from '../camera/main.ts';
import { loadConfig } from '../config/load.ts';
import { isBodycamError } from '../lib/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { limitThreadPool } from '../lib/memory.ts';
import { exitOnceStopped, listenForStop } from '../lib/signals.ts';

/** Runs until SIGTERM or SIGINT; then closes the open segment cleanly and exits 0. */
export async function runCommand(configFile: string): Promise<void> {
  limitThreadPool();
  const config = loadConfig(configFile);
  const logger = createLogger(config.log.level);
  const camera = new Camera(config, logger, { configFile });
  const stop = listenForStop();
  try {
    await camera.start();
  } catch (e) {
    // A known failure (ffmpeg missing, index unreadable) is logged by code and message, without a stack trace.
    if (isBodycamError(e)) logger.fatal({ code: e.code, details: e.details }, `start-up failed: ${e.message}`);
    else logger.fatal({ err: e }, 'start-up failed');
    await camera.stop().catch(() => undefined);
    stop.dispose();
    throw e;
  }
  logger.info({ signal: await stop.received }, 'stopping');
  await camera.stop();
  logger.flush();
  exitOnceStopped(logger);
}
