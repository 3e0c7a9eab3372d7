/**
 * One error class for the whole firmware. Branch on `code`, never on message text.
 * Codes are grouped by subsystem: the prefix before the first underscore names it.
 */
export const ErrorCode = {
  // configuration and command line
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_UNREADABLE: 'CONFIG_UNREADABLE',
  USAGE: 'USAGE',
  // media capture and parsing
  MEDIA_FFMPEG_MISSING: 'MEDIA_FFMPEG_MISSING',
  MEDIA_FFMPEG_UNUSABLE: 'MEDIA_FFMPEG_UNUSABLE',
  MEDIA_CORRUPT: 'MEDIA_CORRUPT',
  MEDIA_CAPTURE_FAILED: 'MEDIA_CAPTURE_FAILED',
  // sealing (age v1)
  SEAL_BAD_RECIPIENT: 'SEAL_BAD_RECIPIENT',
  SEAL_STATE: 'SEAL_STATE',
  SEAL_RECOVERY: 'SEAL_RECOVERY',
  // opening age files (custodian tools, never the camera)
  AGE_BAD_IDENTITY: 'AGE_BAD_IDENTITY',
  AGE_NO_MATCHING_IDENTITY: 'AGE_NO_MATCHING_IDENTITY',
  AGE_CORRUPT: 'AGE_CORRUPT',
  AGE_TRUNCATED: 'AGE_TRUNCATED',
  // storage
  STORAGE_FULL: 'STORAGE_FULL',
  STORAGE_IO: 'STORAGE_IO',
  STORAGE_INDEX: 'STORAGE_INDEX',
  // hardware abstraction
  HAL_GPIO_UNAVAILABLE: 'HAL_GPIO_UNAVAILABLE',
  HAL_GPIO_LINE: 'HAL_GPIO_LINE',
  HAL_AUDIO_UNAVAILABLE: 'HAL_AUDIO_UNAVAILABLE',
  HAL_AUDIO_FAILED: 'HAL_AUDIO_FAILED',
  HAL_AUDIO_STOPPED: 'HAL_AUDIO_STOPPED',
  HAL_AUDIO_BAD_CLIP: 'HAL_AUDIO_BAD_CLIP',
  HAL_BATTERY_UNAVAILABLE: 'HAL_BATTERY_UNAVAILABLE',
  HAL_BATTERY_READ: 'HAL_BATTERY_READ',
  // daemon control socket
  CONTROL_UNREACHABLE: 'CONTROL_UNREACHABLE',
  CONTROL_REJECTED: 'CONTROL_REJECTED',
  // the central fleet status broker
  FLEET_UNREACHABLE: 'FLEET_UNREACHABLE',
  // evidence format: manifests, signatures, hash chains, audit log, verification
  EVIDENCE_FORMAT: 'EVIDENCE_FORMAT',
  EVIDENCE_KEY: 'EVIDENCE_KEY',
  EVIDENCE_UNREADABLE: 'EVIDENCE_UNREADABLE',
  // object storage (S3 with Object Lock)
  STORE_CREDENTIALS: 'STORE_CREDENTIALS',
  STORE_UNREACHABLE: 'STORE_UNREACHABLE',
  STORE_BUCKET: 'STORE_BUCKET',
  STORE_DENIED: 'STORE_DENIED',
  STORE_MISMATCH: 'STORE_MISMATCH',
  STORE_CONFLICT: 'STORE_CONFLICT',
  STORE_FAILED: 'STORE_FAILED',

  ACCOUNT_INVALID: 'ACCOUNT_INVALID',
  ACCOUNT_EXISTS: 'ACCOUNT_EXISTS',
  ACCESS_REFUSED: 'ACCESS_REFUSED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class BodycamError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for logs (key, path, …); never key material. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BodycamError';
    this.code = code;
    this.details = details;
  }
}

export function isBodycamError(e: unknown, code?: ErrorCode): e is BodycamError {
  return e instanceof BodycamError && (code === undefined || e.code === code);
}

/**
 * Errors of one subsystem, by the code prefix (`CONFIG`, `MEDIA`, `SEAL`, `AGE`, `STORAGE`, `HAL`, `CONTROL`,
 * `EVIDENCE`, `STORE`).
 */
export function isSubsystemError(e: unknown, subsystem: string): e is BodycamError {
  return e instanceof BodycamError && e.code.startsWith(`${subsystem}_`);
}

/** errno of a Node system error (ENOSPC, ENOENT, …), or undefined. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}
