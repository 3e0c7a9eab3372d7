import type { Migration } from '../../../lib/migration.ts';
import { initial } from './001-initial.ts';
import { relativePaths } from './002-relative-paths.ts';
import { warning } from './003-warning.ts';
import { manifests } from './004-manifests.ts';
import { offload } from './005-offload.ts';
import { release } from './006-release.ts';
import { deviceKeys } from './007-device-keys.ts';

export type { Migration };

/** Every schema step, in order; `Database.open` runs the ones a file has not had yet. */
export const MIGRATIONS: readonly Migration[] = [
  initial,
  relativePaths,
  warning,
  manifests,
  offload,
  release,
  deviceKeys,
];
