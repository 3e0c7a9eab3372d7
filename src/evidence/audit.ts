/**
 * The audit log (format `bodycam-audit/1`): `audit.jsonl`, one signed entry per line, each line the canonical JSON
 * of its envelope followed by `\n`. Entries form a hash chain like manifests: `seq` counts from 0 without gaps and
 * `prev` is the `envelopeHash` of the entry before (null at seq 0).
 *
 * A line is complete only with its newline. Text after the last newline is a torn tail, left by a power cut during
 * an append: a verifier reports it as a warning, not as tampering, and the writer must cut the file back to
 * `tornTail.offset` before it appends again (otherwise the next entry would be glued to the fragment).
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import { type ChainHead, checkedHead, type Envelope, envelopeHash, sign } from './envelope.ts';
import { type ParsedLine, parseSignedLine } from './lines.ts';
import {
  type Check,
  count,
  envelopeOf,
  fail,
  hex,
  isoTime,
  literal,
  nonEmptyString,
  nullable,
  object,
  record,
} from './schema.ts';

/** The `format` of every audit entry of this version. */
export const AUDIT_FORMAT = 'bodycam-audit/1';

/** One audit log entry (the payload of its envelope). */
export interface AuditEntry {
  format: typeof AUDIT_FORMAT;
  /** 0-based, contiguous. */
  seq: number;
  /** `envelopeHash` of the entry at `seq − 1`; null only at seq 0. */
  prev: string | null;
  /** When it happened (ISO, UTC). */
  at: string;
  /** What happened, e.g. `activation`, `stop`, `warning_suppressed`, `stealth_on`. */
  kind: string;
  incident: string | null;
  /** Facts about it; any canonical-JSON object. */
  data: Record<string, unknown>;
}
/** An entry as the writer gives it: the chain fills in `format`, `seq` and `prev`. */
export type AuditFields = Omit<AuditEntry, 'format' | 'seq' | 'prev'>;

const entryShape = object({
  format: literal(AUDIT_FORMAT),
  seq: count,
  prev: nullable(hex(64)),
  at: isoTime,
  kind: nonEmptyString,
  incident: nullable(nonEmptyString),
  data: record,
});

/** Checks an audit entry: every field, and `prev` null exactly at seq 0. */
export const checkAuditEntry: Check = (v, path) => {
  entryShape(v, path);
  const e = v as AuditEntry;
  if ((e.seq === 0) !== (e.prev === null)) fail(`${path}.prev`, 'null at seq 0 and a hash after it');
};

/**
 * The device's audit chain, like `ManifestChain`: give it the last entry written (null for a new log); `append`
 * fills in `format`, `seq` and `prev`, checks and signs the entry and advances the head. Write `auditLine(env)`.
 */
export class AuditChain {
  #head: ChainHead | null;

  constructor(head: ChainHead | null) {
    this.#head = checkedHead(head);
  }

  get head(): ChainHead | null {
    return this.#head === null ? null : { ...this.#head };
  }

  append(fields: AuditFields, privateKey: KeyObject, keyId: string): Envelope<AuditEntry> {
    const seq = this.#head === null ? 0 : this.#head.seq + 1;
    const entry: AuditEntry = { ...fields, format: AUDIT_FORMAT, seq, prev: this.#head?.hash ?? null };
    checkAuditEntry(entry, '$');
    const env = sign(entry, privateKey, keyId);
    this.#head = { seq, hash: envelopeHash(env) };
    return env;
  }
}

/** The line to append to `audit.jsonl` for an entry: its canonical JSON and a newline. */
export function auditLine(env: Envelope<AuditEntry>): string {
  return `${canonicalJson(env)}\n`;
}

/** A parsed `audit.jsonl`. Line numbers count from 1. */
export interface AuditLog {
  entries: Array<{ line: number; envelope: Envelope<AuditEntry>; hash: string }>;
  /** Complete lines that are not a canonical, well-formed entry envelope: never produced by a power cut. */
  malformed: Array<{ line: number; reason: string }>;
  /** Text after the last newline (an append cut short), with its byte offset in the file; null when none. */
  tornTail: { line: number; offset: number; bytes: number } | null;
}

const checkEnvelope = envelopeOf(checkAuditEntry);

/** Parses one complete line of `audit.jsonl` (without its newline); never throws. */
export function parseAuditLine(text: string): ParsedLine<AuditEntry> {
  return parseSignedLine<AuditEntry>(text, checkEnvelope);
}

/**
 * Parses `audit.jsonl` (its text, or its bytes so that `tornTail.offset` is exact even in a file that is not valid
 * UTF-8) without checking signatures or links: the verifier does. Never throws: a malformed complete line is listed
 * in `malformed`, a torn last line in `tornTail`.
 */
export function parseAuditLog(content: string | Buffer): AuditLog {
  const log: AuditLog = { entries: [], malformed: [], tornTail: null };
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const end = bytes.lastIndexOf(0x0a) + 1;
  const lines =
    end === 0
      ? []
      : bytes
          .subarray(0, end - 1)
          .toString('utf8')
          .split('\n');
  lines.forEach((line, i) => {
    const parsed = parseAuditLine(line);
    if ('reason' in parsed) log.malformed.push({ line: i + 1, reason: parsed.reason });
    else log.entries.push({ line: i + 1, envelope: parsed.envelope, hash: envelopeHash(parsed.envelope) });
  });
  if (end < bytes.length) log.tornTail = { line: lines.length + 1, offset: end, bytes: bytes.length - end };
  return log;
}
