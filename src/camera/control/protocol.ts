/** Local control protocol: one JSON request per line, one JSON response per line, over a Unix socket. */

export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'press'; input: string; count: number; holdMs: number }
  | { cmd: 'events'; limit: number }
  | { cmd: 'set'; input: string; level: boolean };

export type ControlResponse = { ok: true; result: unknown } | { ok: false; code: string; error: string };

const MAX_LINE = 4096;

/** Parse one request line; anything malformed or hostile becomes a clear error, never an exception upward. */
export function parseRequest(line: string): ControlRequest | { error: string } {
  if (line.length > MAX_LINE) return { error: `request longer than ${MAX_LINE} bytes` };
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return { error: 'request is not JSON' };
  }
  if (typeof doc !== 'object' || doc === null) return { error: 'request must be a JSON object' };
  const r = doc as Record<string, unknown>;
  if (r['cmd'] === 'status') return { cmd: 'status' };
  if (r['cmd'] === 'set') {
    const input = r['input'];
    const level = r['level'];
    if (typeof input !== 'string' || input.length === 0 || input.length > 64)
      return { error: 'set needs an input name' };
    if (typeof level !== 'boolean') return { error: 'level must be true or false' };
    return { cmd: 'set', input, level };
  }
  if (r['cmd'] === 'events') {
    const limit = r['limit'] ?? 100;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      return { error: 'limit must be an integer from 1 to 10000' };
    }
    return { cmd: 'events', limit };
  }
  if (r['cmd'] === 'press') {
    const input = r['input'];
    const count = r['count'] ?? 1;
    const holdMs = r['holdMs'] ?? 0;
    if (typeof input !== 'string' || input.length === 0 || input.length > 64)
      return { error: 'press needs an input name' };
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 10) {
      return { error: 'count must be an integer from 1 to 10' };
    }
    if (typeof holdMs !== 'number' || !Number.isInteger(holdMs) || holdMs < 0 || holdMs > 60_000) {
      return { error: 'holdMs must be an integer from 0 to 60000' };
    }
    return { cmd: 'press', input, count, holdMs };
  }
  return { error: `unknown command ${JSON.stringify(r['cmd'])}` };
}
