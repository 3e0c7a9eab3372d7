/**
 * Whether the camera could use a file or device: run as root, doctor answers for the service user (from the file's
 * owner, group and mode, as the kernel would decide for it), since root itself reads everything and would pass a key
 * the camera cannot read. Otherwise it answers for whoever runs it.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { accessProblem, R, W, X } from '../service-user.ts';
import type { DoctorContext } from './check.ts';

export { R, W, X };

/** What keeps the camera from `want` (R, W, X) on `file`, or null when nothing does. */
export async function reachProblem(ctx: DoctorContext, file: string, want: number): Promise<string | null> {
  if (ctx.account !== null) return await accessProblem(ctx.account, file, want);
  const mode = (want & R ? constants.R_OK : 0) | (want & W ? constants.W_OK : 0) | (want & X ? constants.X_OK : 0);
  try {
    await access(file, mode);
    return null;
  } catch (e) {
    return `${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** Who the checks answer for, for the report and fixes. */
export function whoRuns(ctx: DoctorContext): string {
  return ctx.account === null ? 'this user' : `the service user ${ctx.account.name}`;
}
