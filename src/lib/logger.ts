import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths redacted everywhere: identities, private keys, anything that could decrypt or sign. */
const REDACT = [
  'identity',
  'privateKey',
  'secretKey',
  '*.identity',
  '*.privateKey',
  '*.secretKey',
  'fileKey',
  '*.fileKey',
];

/** Root logger: pino JSON to stdout (journald on the device). Components take `logger.child({ component })`. */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino({ level, base: { service: 'bodycam' }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

/** A logger that drops everything, for tests and one-shot commands that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
