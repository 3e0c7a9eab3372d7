/**
 * The rules that keep the documentation true to the code (test/unit/docs.test.ts). Each returns the problems it
 * finds as `file:line: what is wrong` lines, so a failing test says where to look.
 *
 * - cli.md documents every command of the `bodycam` program (a heading `bodycam <path>` in a code span) with a table
 *   whose first column lists each long option and each argument (`<file>`) of that command, and nothing else.
 * - Every `bodycam …` command line in a code span or code block names an existing command, and each `--option` on it
 *   exists on that command or on one it belongs to (`ctl --config`).
 * - Every config key of the schema is a row of the configuration reference; every key path written in a code span
 *   (`preRecord.seconds`) is a key of the schema.
 * - Every `npm run <script>` exists in package.json; every repository path written in code (`src/…`, `scripts/…`,
 *   `test/…`, `hardware/…`, `docs/…`) exists; every relative link resolves to a file, and its `#anchor` to a heading.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type MarkdownDoc, parseMarkdown } from './markdown.ts';

export interface CommandNode {
  /** `bodycam`, `bodycam dock`, `bodycam dock init`, … */
  name: string;
  options: Array<{ long: string; short: string | null; takesValue: boolean }>;
  args: string[];
  subcommands: CommandNode[];
}

/** The commander program as plain data: every command, its long options (not --help) and its arguments. */
export function commandTree(cmd: Command, parent = ''): CommandNode {
  const name = parent === '' ? cmd.name() : `${parent} ${cmd.name()}`;
  return {
    name,
    options: cmd.options.map((o) => ({
      long: o.long ?? '',
      short: o.short ?? null,
      takesValue: o.required || o.optional,
    })),
    args: cmd.registeredArguments.map((a) => a.name()),
    subcommands: cmd.commands.map((c) => commandTree(c, name)),
  };
}

function allCommands(node: CommandNode): CommandNode[] {
  return [node, ...node.subcommands.flatMap(allCommands)];
}

const where = (doc: MarkdownDoc, line: number) => `${doc.file}:${line}`;

/** The command a cli.md heading documents (`### \`bodycam dock init\``), or null for another heading. */
function headingCommand(text: string): string | null {
  const m = /^`(bodycam(?: [a-z][a-z-]*)*)`$/.exec(text.trim());
  return m?.[1] ?? null;
}

/** The option or argument a table row of cli.md documents: `--out <file>` → `--out`, `<file>` → `<file>`. */
const FIRST_CELL = /^`(--[a-z][a-z0-9-]*|<[a-z][a-zA-Z0-9-]*>)(?:[ =][^`]*)?`/;

/** cli.md against the program: every command, option and argument documented, nothing documented that is not. */
export function cliReferenceProblems(tree: CommandNode, cli: MarkdownDoc): string[] {
  const problems: string[] = [];
  const commands = new Map(allCommands(tree).map((c) => [c.name, c]));
  const sections = new Map<string, { line: number; cells: Array<{ line: number; text: string }> }>();
  const headings = cli.headings;
  headings.forEach((h, i) => {
    const name = headingCommand(h.text);
    if (name === null) return;
    if (sections.has(name)) problems.push(`${where(cli, h.line)}: \`${name}\` is documented twice`);
    const end = headings.slice(i + 1).find((n) => headingCommand(n.text) !== null || n.level <= h.level)?.line;
    const cells = cli.firstCells.filter((c) => c.line > h.line && (end === undefined || c.line < end));
    sections.set(name, { line: h.line, cells });
  });
  for (const [name, cmd] of commands) {
    const section = sections.get(name);
    if (section === undefined) {
      problems.push(`${cli.file}: command \`${name}\` is not documented (add a heading \`${name}\`)`);
      continue;
    }
    const documented = new Set(section.cells.map((c) => FIRST_CELL.exec(c.text)?.[1]).filter((t) => t !== undefined));
    for (const o of cmd.options) {
      if (!documented.has(o.long))
        problems.push(`${where(cli, section.line)}: \`${name}\` option ${o.long} is not documented`);
    }
    for (const a of cmd.args) {
      if (!documented.has(`<${a}>`))
        problems.push(`${where(cli, section.line)}: \`${name}\` argument <${a}> is not documented`);
    }
    for (const c of section.cells) {
      const token = FIRST_CELL.exec(c.text)?.[1];
      if (token === undefined) continue;
      const exists = token.startsWith('--')
        ? cmd.options.some((o) => o.long === token)
        : cmd.args.includes(token.slice(1, -1));
      if (!exists)
        problems.push(
          `${where(cli, c.line)}: \`${name}\` has no ${token.startsWith('--') ? 'option' : 'argument'} ${token}`,
        );
    }
  }
  for (const [name, section] of sections) {
    if (!commands.has(name)) problems.push(`${where(cli, section.line)}: \`${name}\` is not a command`);
  }
  return problems;
}

/** Where a `bodycam` command line starts: the word itself, or run as scripts/bodycam, dist/cli/bodycam.js, … */
const START = /(?:^|[\s(])(?:\.\/)?(?:scripts\/|dist\/cli\/|node_modules\/\.bin\/)?bodycam(?:\.js)?(?=\s|$)/g;
/** Tokens that end a command line in a shell line. */
const SHELL_STOP = /^(?:&&|\|\||;|\||>|>>|2>|2>&1|<|#.*)$/;
/** A placeholder where a command or value goes: `COMMAND`, `<file>`, `…`. */
const PLACEHOLDER = /^(?:[A-Z][A-Z0-9_.-]*|<[^>]*>|\.\.\.|…)$/;

/** Problems of one command line (the words after `bodycam`). */
export function commandLineProblems(tree: CommandNode, words: readonly string[], shell: boolean): string[] {
  const chain: CommandNode[] = [tree];
  const current = () => chain[chain.length - 1] ?? tree;
  const problems: string[] = [];
  let i = words[0] === '--' ? 1 : 0; // `npm run bodycam -- …`
  let positional = false;
  for (; i < words.length; i++) {
    const raw = words[i] ?? '';
    if (shell && SHELL_STOP.test(raw)) break;
    if (!shell && raw === '|') continue; // `[--from PATH | --config FILE]`: alternatives
    const word = raw.replace(/^[[(]+/, '').replace(/[\])]+$/, '');
    if (word === '') continue;
    if (/^--[a-z]/.test(word)) {
      const long = word.split('=')[0] ?? word;
      if (long === '--help') continue;
      const option = chain.flatMap((c) => c.options).find((o) => o.long === long);
      if (option === undefined) {
        problems.push(`\`${current().name}\` has no option ${long}`);
        continue;
      }
      if (option.takesValue && !word.includes('=')) i++;
      continue;
    }
    if (/^-[a-zA-Z]$/.test(word)) {
      if (word !== '-h' && !chain.some((c) => c.options.some((o) => o.short === word))) {
        problems.push(`\`${current().name}\` has no option ${word}`);
      }
      continue;
    }
    const cmd = current();
    if (cmd.subcommands.length > 0 && !positional) {
      if (PLACEHOLDER.test(word)) break; // `bodycam COMMAND --help`
      const sub = cmd.subcommands.find((s) => s.name.endsWith(` ${word}`));
      if (sub === undefined) {
        if (word !== 'help') problems.push(`\`${cmd.name} ${word}\` is not a command`);
        break;
      }
      chain.push(sub);
      continue;
    }
    positional = true;
  }
  return problems;
}

/** Every `bodycam …` command line in the documents' code spans and code blocks, checked. */
export function commandUseProblems(tree: CommandNode, docs: readonly MarkdownDoc[]): string[] {
  const problems: string[] = [];
  const scan = (doc: MarkdownDoc, line: number, text: string, shell: boolean) => {
    for (const m of text.matchAll(START)) {
      const rest = text.slice(m.index + m[0].length).trim();
      const words = rest === '' ? [] : rest.split(/\s+/);
      for (const p of commandLineProblems(tree, words, shell)) problems.push(`${where(doc, line)}: ${p}`);
    }
  };
  for (const doc of docs) {
    for (const s of doc.codeSpans) scan(doc, s.line, s.text, false);
    for (const l of doc.codeLines) scan(doc, l.line, l.text, true);
  }
  return problems;
}

/** A key path row of the reference as a pattern: `<name>` (a map's key) stands for any one segment. */
function keyPattern(key: string): RegExp {
  const parts = key.split('.').map((p) => (p === '<name>' ? '[^.]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('\\.')}$`);
}

/** File names that look like key paths (`device.pub`, `dock.json`): what comes after the last dot is an extension. */
const FILE_EXTENSION =
  /\.(?:pub|key|crt|json|jsonl|sqlite|conf|wav|mp4|age|ts|js|md|sh|service|txt|sock|partial|tail|tmp|add|csv|svg|cjs)$/;

/** Code spans that name a config key path: dotted words whose first word is a top-level key of the schema. */
export function keyPathsIn(
  docs: readonly MarkdownDoc[],
  topLevel: ReadonlySet<string>,
): Array<{ where: string; key: string }> {
  const out: Array<{ where: string; key: string }> = [];
  for (const doc of docs) {
    for (const s of doc.codeSpans) {
      const t = s.text.trim();
      if (!/^[a-z][A-Za-z0-9]*(?:\.(?:[A-Za-z0-9_-]+|<[a-z]+>))+$/.test(t) || FILE_EXTENSION.test(t)) continue;
      if (topLevel.has(t.split('.')[0] ?? '')) out.push({ where: where(doc, s.line), key: t });
    }
  }
  return out;
}

/**
 * Key paths in the documents that the schema does not have. `notKeys` are dotted names of something else that share
 * a first word with a key (the camera's events: `capture.init`, `storage.fault`).
 */
export function unknownKeyProblems(
  keys: readonly string[],
  docs: readonly MarkdownDoc[],
  notKeys: ReadonlySet<string> = new Set(),
): string[] {
  const patterns = keys.map(keyPattern);
  const topLevel = new Set(keys.map((k) => k.split('.')[0] ?? ''));
  return keyPathsIn(docs, topLevel)
    .filter(({ key }) => !notKeys.has(key))
    .filter(({ key }) => !patterns.some((p) => p.test(key.replace(/<[a-z]+>|\b[A-Z]+\b/g, 'x'))))
    .map(({ where: w, key }) => `${w}: \`${key}\` is not a config key`);
}

/** Schema keys missing from the configuration reference's table (its first column). */
export function undocumentedKeyProblems(keys: readonly string[], reference: MarkdownDoc): string[] {
  const rows = new Set(reference.firstCells.map((c) => /^`([^`]+)`$/.exec(c.text)?.[1]));
  return keys.filter((k) => !rows.has(k)).map((k) => `${reference.file}: config key \`${k}\` is not documented`);
}

/** `npm run <script>` (and `npm test`) in code must name a script of package.json. */
export function npmScriptProblems(scripts: ReadonlySet<string>, docs: readonly MarkdownDoc[]): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    for (const { line, text } of [...doc.codeSpans, ...doc.codeLines]) {
      for (const m of text.matchAll(/\bnpm (?:run(?: -s| --silent)? ([a-z][\w:-]*)|(test)\b)/g)) {
        const name = m[1] ?? m[2] ?? '';
        if (!scripts.has(name)) problems.push(`${where(doc, line)}: npm script \`${name}\` does not exist`);
      }
    }
  }
  return problems;
}

const REPO_PATH = /^(?:\.\/)?((?:src|scripts|test|hardware|docs|bench-results)\/[A-Za-z0-9_./-]*)$/;

/** Repository paths written in code spans and code blocks that do not exist (placeholders and globs are skipped). */
export function repoPathProblems(repo: string, docs: readonly MarkdownDoc[]): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    for (const { line, text } of [...doc.codeSpans, ...doc.codeLines]) {
      for (const raw of text.split(/[\s`'"(),;:=]+/)) {
        const token = raw.replace(/[.…]+$/, '');
        const m = REPO_PATH.exec(token);
        if (m === null) continue;
        if (!existsSync(path.join(repo, m[1] ?? ''))) problems.push(`${where(doc, line)}: \`${m[1]}\` does not exist`);
      }
    }
  }
  return problems;
}

/**
 * Relative links that do not resolve: the file must exist, and an `#anchor` into a Markdown file must be one of its
 * headings. `pending` names files other work is adding: a link to one is accepted while it does not exist yet, and
 * checked like any other once it does.
 */
export function linkProblems(
  repo: string,
  docs: readonly MarkdownDoc[],
  pending: ReadonlySet<string>,
  read: (file: string) => string,
): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    for (const { line, text } of doc.links) {
      if (/^[a-z][a-z+.-]*:/i.test(text)) continue; // https:, mailto:
      const [target = '', anchor] = text.split('#');
      const file =
        target === '' ? doc.file : path.posix.normalize(path.posix.join(path.posix.dirname(doc.file), target));
      if (!existsSync(path.join(repo, file))) {
        if (!pending.has(file)) problems.push(`${where(doc, line)}: link to ${text}: ${file} does not exist`);
        continue;
      }
      if (anchor === undefined || anchor === '' || !file.endsWith('.md')) continue;
      const headings = file === doc.file ? doc.headings : parseMarkdown(file, read(file)).headings;
      if (!headings.some((h) => h.anchor === anchor))
        problems.push(`${where(doc, line)}: link to ${text}: no heading #${anchor} in ${file}`);
    }
  }
  return problems;
}

/**
 * Citations of the design decisions in code (`docs/design.md §7`, `§5 and §7`) must name a decision of
 * docs/design.md (a heading `§N …`); the old form without a document ("DESIGN decision N") is an error.
 */
export function designCitationProblems(
  files: ReadonlyArray<{ file: string; text: string }>,
  design: MarkdownDoc,
): string[] {
  const decisions = new Set(design.headings.map((h) => /^§(\d+)\b/.exec(h.text)?.[1]).filter((n) => n !== undefined));
  const problems: string[] = [];
  for (const { file, text } of files) {
    const lineOf = (index: number) => text.slice(0, index).split('\n').length;
    for (const m of text.matchAll(/design\.md (§\d+(?:(?:, | and |–)§?\d+)*)/g)) {
      for (const n of m[1]?.match(/\d+/g) ?? []) {
        if (!decisions.has(n)) problems.push(`${file}:${lineOf(m.index)}: ${design.file} has no §${n}`);
      }
    }
    for (const m of text.matchAll(/DESIGN decisions? \d+/g)) {
      problems.push(`${file}:${lineOf(m.index)}: "${m[0]}" cites no document; write docs/design.md §N`);
    }
  }
  return problems;
}
