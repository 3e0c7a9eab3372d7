/**
 * The last line of defence of every program (camera daemon, dock station, CLI tools): an exception nobody caught or a
 * promise rejection nobody handled is a bug, and carrying on would run in an unknown state. It is logged as one JSON
 * line (pino's shape, level 60 "fatal") with the error's stack, and the process exits with EXIT_INTERNAL_ERROR, so
 * systemd restarts the service and the journal says why.
 */

/** EX_SOFTWARE from sysexits.h: an internal software error. */
export const EXIT_INTERNAL_ERROR = 70;

export interface FatalOptions {
  /** Where the line goes (default: stderr, which journald keeps beside stdout). */
  write?: (line: string) => void;
  exit?: (code: number) => void;
  now?: () => number;
}

/** The fatal log line for `error` (`origin`: uncaughtException or unhandledRejection). */
export function fatalLine(origin: string, error: unknown, now: number): string {
  const err =
    error instanceof Error
      ? { type: error.name, message: error.message, stack: error.stack ?? '' }
      : { type: typeof error, message: String(error), stack: '' };
  return `${JSON.stringify({ level: 60, time: now, service: 'bodycam', origin, err, msg: `fatal: ${origin}` })}\n`;
}

/** Installs the handlers once per process; returns a function that removes them. */
export function exitOnFatal(options: FatalOptions = {}): () => void {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const now = options.now ?? Date.now;
  const onException = (error: unknown, origin: string) => {
    write(fatalLine(origin, error, now()));
    exit(EXIT_INTERNAL_ERROR);
  };
  const onRejection = (reason: unknown) => onException(reason, 'unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
