/**
 * The evidence layout is written down once (src/evidence/paths.ts, docs/architecture.md): no other file in src
 * writes one of its names as a literal, in code, messages or regular expressions, so a change of layout is one change
 * that camera, dock, verifier and export all follow. Planted literals show the scan catches each kind of name.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tables hold TypeScript source text to scan, template literals included
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as layout from '../../src/evidence/paths.ts';
import { type LayoutName, layoutLiterals } from './layout-literals.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const OWNER = 'src/evidence/paths.ts';

const NAMES: LayoutName[] = [
  { name: layout.FOOTAGE_DIR, kind: 'dir' },
  { name: layout.DOCK_EVIDENCE_DIR, kind: 'dir' },
  { name: layout.DOCK_INCOMING_DIR, kind: 'dir' },
  { name: layout.INDEX_FILE, kind: 'file' },
  { name: layout.AUDIT_LOG, kind: 'file' },
  { name: layout.DOCKINGS_LOG, kind: 'file' },
  { name: layout.DEVICE_KEY_FILE, kind: 'file' },
  { name: layout.DOCK_KEY_FILE, kind: 'file' },
  { name: layout.CONTROL_SOCKET, kind: 'file' },
  { name: layout.INCIDENT_MANIFEST, kind: 'file' },
  { name: layout.SEGMENT_SUFFIX, kind: 'suffix' },
  { name: layout.MANIFEST_SUFFIX, kind: 'suffix' },
  { name: layout.RECEIPT_SUFFIX, kind: 'suffix' },
  { name: layout.PARTIAL_SUFFIX, kind: 'suffix' },
  { name: layout.TAIL_SUFFIX, kind: 'suffix' },
  { name: layout.PART_SUFFIX, kind: 'suffix' },
];

/** Literals allowed outside the owner, each with its reason. */
const EXCEPTIONS: Array<{ file: string; name: string; why: string }> = [
  {
    file: 'src/camera/storage/migrations/002-relative-paths.ts',
    name: layout.FOOTAGE_DIR,
    why: 'a migration reads what release 0.1.0 wrote; it must not follow a later change of the layout',
  },
];

interface Source {
  file: string;
  text: string;
}

function sources(dir: string): Source[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [{ file: path.relative(REPO, p), text: readFileSync(p, 'utf8') }] : [];
  });
}

/** `file:line name "literal"` for every layout literal outside the owner and the exceptions. */
function violations(files: readonly Source[]): string[] {
  return files
    .filter((s) => s.file !== OWNER)
    .flatMap((s) =>
      layoutLiterals(s.file, s.text, NAMES)
        .filter((l) => !EXCEPTIONS.some((x) => x.file === s.file && x.name === l.name))
        .map((l) => `${s.file}:${l.line} ${l.name} ${JSON.stringify(l.text)}`),
    );
}

const names = (source: string) => layoutLiterals('planted.ts', source, NAMES).map((l) => l.name);

describe('evidence layout literals', () => {
  const src = sources(path.join(REPO, 'src'));

  it(`src writes no layout name outside ${OWNER}`, () => {
    expect(src.length).toBeGreaterThan(50);
    expect(violations(src)).toEqual([]);
  });

  it('the scan sees every name where it is defined, and each exception still holds one', () => {
    const owner = src.find((s) => s.file === OWNER);
    expect(owner).toBeDefined();
    const found = new Set(layoutLiterals(OWNER, owner?.text ?? '', NAMES).map((l) => l.name));
    expect([...found].sort()).toEqual(NAMES.map((n) => n.name).sort());
    for (const x of EXCEPTIONS) {
      const text = src.find((s) => s.file === x.file)?.text ?? '';
      expect(layoutLiterals(x.file, text, NAMES).map((l) => l.name)).toContain(x.name);
    }
  });

  it('a literal planted in a real source file fails the rule, naming file, line and name', () => {
    const file = 'src/dock/sync/evidence-store.ts';
    const planted = src.map((s) =>
      s.file === file ? { file, text: `${s.text}\nexport const sneaky = (d: string) => \`\${d}/audit.jsonl\`;\n` } : s,
    );
    const line = (src.find((s) => s.file === file)?.text.split('\n').length ?? 0) + 1;
    expect(violations(planted)).toEqual([`${file}:${line} audit.jsonl "/audit.jsonl"`]);
  });

  it.each([
    ["path.join(dir, 'audit.jsonl')", ['audit.jsonl']],
    ["path.join(storage, 'footage', incident)", ['footage']],
    ['`${storage}/footage/${incident}`', ['footage']],
    ['/^footage\\/([^/]+\\/[^/]+)$/', ['footage']],
    ["path.join(root, 'evidence')", ['evidence']],
    ["'DOCKDIR/incoming'", ['incoming']],
    ["new RegExp('^\\\\d{4}\\\\.mp4\\\\.age$')", ['.mp4.age']],
    ['String.raw`\\d{4,}\\.mp4\\.age`', ['.mp4.age']],
    ['`${segment}.receipt.json.tmp`', ['.receipt.json']],
    ["name + '.manifest.json'", ['.manifest.json']],
    ["'incident.manifest.json'", ['incident.manifest.json', '.manifest.json']],
    ['`${file}.partial`', ['.partial']],
    ['`${file}.tail.tmp`', ['.tail']],
    ["name.endsWith('.part')", ['.part']],
    ["'identity/dock.pub'", ['dock.pub']],
    ["fail('keys', 'restore device.pub from the key')", ['device.pub']],
    ["['index.sqlite-wal', 'dockings.jsonl']", ['index.sqlite', 'dockings.jsonl']],
    ["'STORAGE/bodycam.sock'", ['bodycam.sock']],
  ])('%s is caught', (source, expected) => {
    expect(names(`export const x = ${source};\n`)).toEqual(expected);
  });

  it.each([
    ['// path.join(dir, "audit.jsonl")', []],
    ['/** `footage/<incident>/` and `device.pub` */', []],
    ["import { AUDIT_LOG } from '../evidence/paths.ts';", []],
    ["export const x = await import('./evidence/x.ts');", []],
    ["export const x = 'receiving footage';", []],
    ["export const x = { key: 'evidence.keyFile' };", []],
    ["export const x = 'the evidence directory cannot be read';", []],
    ['export const x = `${AUDIT_LOG} line ${n}`;', []],
    ["export const x = 'an incoming transfer';", []],
    ["export const x = '0001.mp4';", []],
    ["export const x = 'x.partial';", ['.partial']],
  ])('%s is not a layout literal (or only the one named)', (source, expected) => {
    expect(names(source)).toEqual(expected);
  });
});
