/** Decrypting what the camera sealed, as a custodian would, in tests. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Plaintext of the age file `file`, opened with the `AGE-SECRET-KEY-1…` identity (throws when it does not open). */
export function decryptWith(identity: string, file: string): Buffer {
  const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'bodycam-key-')), 'id.key');
  writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
  const r = spawnSync('age', ['-d', '-i', keyFile, file], { maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`age -d ${file} failed: ${r.stderr.toString()}`);
  return r.stdout;
}
