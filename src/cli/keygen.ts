import { writeFile } from 'node:fs/promises';
import { generateIdentity, identityFileText } from '../age/keys.ts';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';

/** Writes a custodian identity that `age -d -i FILE` accepts; prints its recipient on stdout. */
export async function keygenCommand(out: string): Promise<void> {
  const { identity, recipient } = generateIdentity();
  try {
    await writeFile(out, identityFileText(identity, recipient, new Date()), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') {
      throw new BodycamError(
        ErrorCode.USAGE,
        `${out} already exists; keygen never overwrites a key (choose another --out)`,
      );
    }
    throw new BodycamError(ErrorCode.USAGE, `cannot write ${out}: ${(e as Error).message}`);
  }
  process.stderr.write(`wrote custodian identity to ${out}; keep it off the cameras\n`);
  process.stdout.write(`${recipient}\n`);
}
