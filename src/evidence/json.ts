/**
 * JSON from evidence files, bounded before `JSON.parse` sees it: a size limit and a nesting limit, so a hostile file
 * (a line nested 200,000 deep, a manifest of a gigabyte) costs a linear scan of bytes already in memory, never a deep
 * recursion in a later walk of the value (canonical JSON, shape checks) nor an allocation sized by its content.
 */
import { BodycamError, ErrorCode } from '../lib/errors.ts';

/** Deeper than anything the format writes (manifests nest 3 levels; audit data a few more). */
export const MAX_JSON_DEPTH = 32;

/** How deep `text` nests arrays and objects, stopping once past `limit` (strings and escapes skipped). */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

function refuse(what: string, why: string, cause?: unknown): BodycamError {
  return new BodycamError(
    ErrorCode.EVIDENCE_FORMAT,
    `${what} is not valid JSON: ${why}`,
    {},
    cause === undefined ? {} : { cause },
  );
}

/**
 * `JSON.parse` of evidence text: EVIDENCE_FORMAT, naming `what`, for text longer than `maxChars`, nested deeper than
 * MAX_JSON_DEPTH, or not JSON.
 */
export function parseBoundedJson(text: string, what: string, maxChars: number): unknown {
  if (text.length > maxChars) throw refuse(what, `${text.length} characters, more than the ${maxChars} allowed`);
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw refuse(what, `nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw refuse(what, e instanceof Error ? e.message : String(e), e);
  }
}
