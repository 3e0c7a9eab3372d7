/**
 * The documentation against the code: every `bodycam` command, option and argument documented in docs/cli.md and
 * nothing there that the program lacks; every command line in the docs runnable as written; the configuration
 * reference generated from the schema and current; every config key path, npm script, repository path and relative
 * link in the docs real; every design decision the code cites present in docs/design.md. Each rule is also shown
 * failing on a small bad example.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { configRows, renderConfigTable, spliceTable } from '../../scripts/docs/config-reference.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { configSchema } from '../../src/config/schema.ts';
import {
  cliReferenceProblems,
  commandTree,
  commandUseProblems,
  designCitationProblems,
  linkProblems,
  npmScriptProblems,
  repoPathProblems,
  undocumentedKeyProblems,
  unknownKeyProblems,
} from '../harness/doc-rules.ts';
import { parseMarkdown } from '../harness/markdown.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');
const DOC_FILES = [
  'README.md',
  'test/README.md',
  'hardware/README.md',
  ...readdirSync(path.join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const docs = DOC_FILES.map((f) => parseMarkdown(f, read(f)));
const doc = (file: string) => {
  const d = docs.find((x) => x.file === file);
  if (d === undefined) throw new Error(`${file} is missing`);
  return d;
};
const tree = commandTree(buildProgram());
const rows = configRows(configSchema);
const keys = rows.map((r) => r.key);
/** The camera's event names (`capture.init`, …): dotted like key paths, and not config keys. */
const EVENTS = new Set(
  [...read('src/camera/events.ts').matchAll(/^\s+'([a-z]+(?:\.[a-z]+)+)':/gm)].map((m) => m[1] ?? ''),
);
const scripts = new Set(Object.keys((JSON.parse(read('package.json')) as { scripts: object }).scripts));

/**
 * Pages the documentation links to that are still being written (docs/README.md lists them by reader). A link to
 * one of these is accepted while the file does not exist, and checked like any other link once it does.
 */
const PENDING = new Set<string>();

describe('the docs against the code', () => {
  it('docs/cli.md documents every command, option and argument of `bodycam`, and nothing else', () => {
    expect(tree.subcommands.length).toBeGreaterThan(10);
    expect(cliReferenceProblems(tree, doc('docs/cli.md'))).toEqual([]);
  });

  it('every `bodycam …` command line in the docs names a command and options that exist', () => {
    const lines = docs.flatMap((d) => [...d.codeSpans, ...d.codeLines]).filter((l) => /\bbodycam\s+[a-z]/.test(l.text));
    expect(lines.length).toBeGreaterThan(30);
    expect(commandUseProblems(tree, docs)).toEqual([]);
  });

  it('docs/configuration.md holds the reference generated from the schema (`npm run docs`)', () => {
    const file = read('docs/configuration.md');
    expect(spliceTable(file, renderConfigTable(rows))).toBe(file);
  });

  it('every config key of the schema is a row of the reference, and every key path in the docs exists', () => {
    expect(keys.length).toBeGreaterThan(80);
    expect(undocumentedKeyProblems(keys, doc('docs/configuration.md'))).toEqual([]);
    expect(EVENTS.has('capture.init')).toBe(true);
    expect(unknownKeyProblems(keys, docs, EVENTS)).toEqual([]);
  });

  it('every npm script and repository path written in the docs exists', () => {
    expect(npmScriptProblems(scripts, docs)).toEqual([]);
    expect(repoPathProblems(REPO, docs)).toEqual([]);
  });

  it('every `docs/design.md §N` the code cites is a decision there', () => {
    const walk = (dir: string): string[] =>
      readdirSync(path.join(REPO, dir)).flatMap((f) => {
        const rel = `${dir}/${f}`;
        if (statSync(path.join(REPO, rel)).isDirectory()) return rel.startsWith('test/fixtures') ? [] : walk(rel);
        // This file holds the bad examples the rule must catch.
        return /\.(ts|cjs|sh)$/.test(f) && rel !== 'test/unit/docs.test.ts' ? [rel] : [];
      });
    const files = [...walk('src'), ...walk('test'), ...walk('scripts'), '.dependency-cruiser.cjs'].map((file) => ({
      file,
      text: read(file),
    }));
    expect(files.filter((f) => f.text.includes('design.md §')).length).toBeGreaterThan(4);
    expect(designCitationProblems(files, doc('docs/design.md'))).toEqual([]);
  });

  it('every relative link in the docs resolves to a file and a heading', () => {
    expect(docs.flatMap((d) => d.links).length).toBeGreaterThan(30);
    expect(linkProblems(REPO, docs, PENDING, read)).toEqual([]);
  });
});

describe('each rule fires', () => {
  const program = new Command('bodycam');
  program.command('run').option('--config <file>', 'config file');
  const dock = program.command('dock').option('--dir <dir>', 'dock directory');
  dock.command('status').option('--json', 'JSON').argument('<what>', 'what');
  const small = commandTree(program);

  it('an undocumented command, option or argument, and a documented one that does not exist', () => {
    const cli = parseMarkdown(
      'cli.md',
      [
        '# `bodycam`',
        '## `bodycam run`',
        '| option | meaning |',
        '|---|---|',
        '| `--bogus` | not an option |',
        '## `bodycam dock`',
        '| `--dir` | ok |',
        '## `bodycam fly`',
      ].join('\n'),
    );
    expect(cliReferenceProblems(small, cli)).toEqual([
      'cli.md:2: `bodycam run` option --config is not documented',
      'cli.md:5: `bodycam run` has no option --bogus',
      'cli.md: command `bodycam dock status` is not documented (add a heading `bodycam dock status`)',
      'cli.md:8: `bodycam fly` is not a command',
    ]);
  });

  it('a command line with a command or an option that does not exist', () => {
    const md = parseMarkdown(
      'use.md',
      [
        'Run `bodycam run --config cam.json`, `bodycam dock --dir d status --json x` and `scripts/bodycam fly`.',
        '```sh',
        'bodycam run --confg cam.json   # a typo',
        'bodycam dock status -x x && bodycam dock --json status x',
        'npm run bodycam -- COMMAND --help',
        '```',
      ].join('\n'),
    );
    expect(commandUseProblems(small, [md])).toEqual([
      'use.md:1: `bodycam fly` is not a command',
      'use.md:3: `bodycam run` has no option --confg',
      'use.md:4: `bodycam dock status` has no option -x',
      'use.md:4: `bodycam dock` has no option --json',
    ]);
  });

  it('a stale reference, a schema key left out, a key path that does not exist', () => {
    const current = read('docs/configuration.md');
    const stale = current.replace(
      '| `preRecord.seconds` | integer | `30` |',
      '| `preRecord.seconds` | integer | `20` |',
    );
    expect(stale).not.toBe(current);
    expect(spliceTable(stale, renderConfigTable(rows))).not.toBe(stale);
    const reference = parseMarkdown('configuration.md', '| key |\n|---|\n| `device.id` |');
    expect(undocumentedKeyProblems(['device.id', 'device.board'], reference)).toEqual([
      'configuration.md: config key `device.board` is not documented',
    ]);
    const prose = parseMarkdown(
      'guide.md',
      'Set `preRecord.secnds`, `gpio.inputs.record.pin`, `gpio.inputs.<name>.pull` and `warning.phrases.nl`; `device.pub` is a file.',
    );
    expect(unknownKeyProblems(keys, [prose])).toEqual(['guide.md:1: `preRecord.secnds` is not a config key']);
  });

  it('an npm script or a repository path that does not exist', () => {
    const md = parseMarkdown(
      'x.md',
      'Run `npm run bench`, `npm run nope` and `npm test`; see `src/cli/program.ts`, `src/nowhere.ts`.',
    );
    expect(npmScriptProblems(scripts, [md])).toEqual(['x.md:1: npm script `nope` does not exist']);
    expect(repoPathProblems(REPO, [md])).toEqual(['x.md:1: `src/nowhere.ts` does not exist']);
  });

  it('a design decision cited that does not exist, or cited without its document', () => {
    const design = parseMarkdown('docs/design.md', '# Design\n### §1 Runtime\n### §7 Durability\n');
    const code = [
      { file: 'a.ts', text: '/** (docs/design.md §7) */' },
      { file: 'b.ts', text: '// docs/design.md §1 and §21\n// DESIGN decision 3' },
    ];
    expect(designCitationProblems(code, design)).toEqual([
      'b.ts:1: docs/design.md has no §21',
      'b.ts:2: "DESIGN decision 3" cites no document; write docs/design.md §N',
    ]);
  });

  it('a link to a missing file or heading; a pending page only once it exists', () => {
    const repo = mkdtempSync(path.join(os.tmpdir(), 'bodycam-docs-'));
    mkdirSync(path.join(repo, 'docs'));
    writeFileSync(path.join(repo, 'docs/a.md'), '# A page\n## The part\n');
    writeFileSync(path.join(repo, 'docs/soon.md'), '# Soon\n');
    const readTmp = (f: string) => readFileSync(path.join(repo, f), 'utf8');
    const md = parseMarkdown(
      'docs/README.md',
      [
        '[ok](a.md#the-part) [missing](b.md) [anchor](a.md#nope) [here](#index)',
        '[later](later.md) [soon](soon.md#nope) [web](https://example.org/x.md) `[code](c.md)`',
        '# Index',
      ].join('\n'),
    );
    writeFileSync(path.join(repo, 'docs/README.md'), '');
    const problems = linkProblems(repo, [md], new Set(['docs/later.md', 'docs/soon.md']), readTmp);
    rmSync(repo, { recursive: true });
    expect(problems).toEqual([
      'docs/README.md:1: link to b.md: docs/b.md does not exist',
      'docs/README.md:1: link to a.md#nope: no heading #nope in docs/a.md',
      'docs/README.md:2: link to soon.md#nope: no heading #nope in docs/soon.md',
    ]);
  });
});
