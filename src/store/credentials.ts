/**
 * S3 credentials in the AWS shared-credentials format, parsed here (the SDK's own loader also reads environment
 * variables, other profiles' files and instance metadata, which a dock must not fall back to silently):
 *
 * ```
 * [default]
 * aws_access_key_id = AKIA…
 * aws_secret_access_key = …
 * aws_session_token = …        (optional)
 * ```
 *
 * `#` and `;` start comment lines; names are case-insensitive; the first `=` splits a line. A file others can read
 * is refused: with these keys anyone can write new versions, delete markers and legal holds.
 */
import { readFile, stat } from 'node:fs/promises';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** A problem in a credentials file, with its 1-based line (0: the file as a whole). */
export interface CredentialsProblem {
  line: number;
  message: string;
}

const SECTION = /^\[\s*([^\]]+?)\s*\]$/;

/** The profile `profile` of a credentials file's text, or every problem found. */
export function parseCredentials(
  text: string,
  profile = 'default',
): { ok: S3Credentials } | { problems: CredentialsProblem[] } {
  const problems: CredentialsProblem[] = [];
  const found = new Map<string, { value: string; line: number }>();
  let section: string | null = null;
  let sawProfile = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const head = SECTION.exec(line);
    if (head !== null) {
      section = (head[1] ?? '').replace(/^profile\s+/, '');
      if (section === profile) {
        if (sawProfile) problems.push({ line: n, message: `[${profile}] appears twice` });
        sawProfile = true;
      }
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) {
      problems.push({ line: n, message: 'expected "name = value" or "[profile]"' });
      return;
    }
    if (section === null) {
      problems.push({ line: n, message: 'a setting before any [profile] line' });
      return;
    }
    if (section !== profile) return;
    const name = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (found.has(name)) problems.push({ line: n, message: `${name} is set twice` });
    found.set(name, { value, line: n });
  });
  if (!sawProfile) problems.push({ line: 0, message: `no [${profile}] profile` });
  const need = (name: string): string => {
    const v = found.get(name);
    if (v === undefined) {
      if (sawProfile) problems.push({ line: 0, message: `[${profile}] has no ${name}` });
      return '';
    }
    if (v.value === '') problems.push({ line: v.line, message: `${name} is empty` });
    return v.value;
  };
  const accessKeyId = need('aws_access_key_id');
  const secretAccessKey = need('aws_secret_access_key');
  const token = found.get('aws_session_token')?.value;
  if (problems.length > 0) return { problems };
  return {
    ok: { accessKeyId, secretAccessKey, ...(token === undefined || token === '' ? {} : { sessionToken: token }) },
  };
}

/**
 * Reads `file` (STORE_CREDENTIALS naming the file, the line and the fix when it is missing, readable by others or
 * malformed). Secret values never appear in messages.
 */
export async function loadCredentials(file: string, profile = 'default'): Promise<S3Credentials> {
  let text: string;
  try {
    const st = await stat(file);
    if ((st.mode & 0o004) !== 0) {
      throw new BodycamError(
        ErrorCode.STORE_CREDENTIALS,
        `${file} can be read by every user of this machine; run \`chmod o-rwx ${file}\` (0600, or 0640 for the service's group)`,
        { file },
      );
    }
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof BodycamError) throw e;
    throw new BodycamError(
      ErrorCode.STORE_CREDENTIALS,
      `cannot read the S3 credentials file ${file} (${errnoCode(e) ?? (e as Error).message}); write one with ` +
        `[${profile}], aws_access_key_id and aws_secret_access_key`,
      { file },
    );
  }
  const parsed = parseCredentials(text, profile);
  if ('ok' in parsed) return parsed.ok;
  const lines = parsed.problems.map((p) => `  ${p.line === 0 ? file : `${file}:${p.line}`}: ${p.message}`);
  throw new BodycamError(
    ErrorCode.STORE_CREDENTIALS,
    `${file} is not a usable S3 credentials file (AWS shared-credentials format):\n${lines.join('\n')}`,
    { file, problems: parsed.problems },
  );
}
