import { Camera } from '../camera/main.ts';
import { RESTART_EXIT_CODE, rollBackFailedStart } from '../camera/update/updater.ts';
import { loadConfig } from '../config/load.ts';
import { isBodycamError } from '../lib/errors.ts';
import { createLogger } from '../lib/logger.ts';
import { limitThreadPool } from '../lib/memory.ts';
import { exitOnceStopped, listenForStop } from '../lib/signals.ts';

/**
 * Runs until SIGTERM or SIGINT, then closes the open segment cleanly and exits 0; or until an update asks for a
 * restart, then stops the same way and exits RESTART_EXIT_CODE (75).
 */
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
    // An update on trial that cannot even start goes back at once, and the service starts the previous one.
    if (await rollBackFailedStart(config, configFile, (e as Error).message).catch(() => false)) {
      logger.error('the update on trial could not start: went back to the previous one');
      logger.flush();
      process.exitCode = RESTART_EXIT_CODE;
      return;
    }
    throw e;
  }
  const why = await Promise.race([
    stop.received.then((signal) => ({ signal })),
    camera.restartRequested.then((restart) => ({ restart })),
  ]);
  logger.info(why, 'stopping');
  await camera.stop();
  stop.dispose();
  logger.flush();
  // An update asks the service manager to start `current` again (the unit restarts on this status).
  if ('restart' in why) process.exitCode = RESTART_EXIT_CODE;
  exitOnceStopped(logger);
}
