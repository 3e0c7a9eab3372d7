/** Decrypting what the camera sealed, as a custodian would, in tests (the `age` tool is the oracle elsewhere). */
import { readFileSync } from 'node:fs';
import { openAgeBuffer, parseIdentities } from '../../src/age/opener.ts';

/** Plaintext of the age file `file`, opened with the `AGE-SECRET-KEY-1…` identity (throws when it does not open). */
export function decryptWith(identity: string, file: string): Buffer {
  return openAgeBuffer(readFileSync(file), parseIdentities(identity));
}
