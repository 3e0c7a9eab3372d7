/**
 * Reading a custodian's age identity file in the browser, before anything is decrypted: one `AGE-SECRET-KEY-1…` per
 * line, `#` comments and blank lines allowed (the format `age-keygen` and `bodycam keygen` write). Pure, so the
 * player and its tests share it. The file never leaves the browser; an error never quotes a line, which may hold a key.
 */

export type IdentityFileResult = { ok: true; identities: string[] } | { ok: false; error: string };

const IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

export function readIdentityFile(text: string): IdentityFileResult {
  const identities: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!IDENTITY.test(line)) {
      const what = line.startsWith('AGE-SECRET-KEY-PQ-')
        ? 'a post-quantum identity, which this footage is not sealed to'
        : line.startsWith('AGE-SECRET-KEY-')
          ? 'a damaged AGE-SECRET-KEY-1… identity'
          : 'not an age identity';
      return { ok: false, error: `line ${i + 1} of the identity file is ${what}` };
    }
    identities.push(line);
  }
  if (identities.length === 0) return { ok: false, error: 'the identity file holds no AGE-SECRET-KEY-1… line' };
  return { ok: true, identities };
}
