import { initial } from './001-initial.ts';
import { relativePaths } from './002-relative-paths.ts';
import { warning } from './003-warning.ts';
import { manifests } from './004-manifests.ts';
import type { Migration } from './migration.ts';

export type { Migration };

/** Every schema step, in order; `Database.open` runs the ones a file has not had yet. */
export const MIGRATIONS: readonly Migration[] = [initial, relativePaths, warning, manifests];
