/**
 * Just enough Markdown for the documentation checks (test/unit/docs.test.ts): fenced code blocks, code spans,
 * headings with their GitHub anchors, tables' first cells and relative links, each with its line number.
 */

export interface Located {
  line: number;
  text: string;
}

export interface Heading extends Located {
  level: number;
  /** The anchor GitHub gives it (`#...`), duplicates numbered as GitHub does. */
  anchor: string;
}

export interface MarkdownDoc {
  file: string;
  /** One entry per line of every fenced code block. */
  codeLines: Located[];
  /** Code spans in prose (line breaks inside a span become spaces). */
  codeSpans: Located[];
  headings: Heading[];
  /** Link targets in prose, as written (`docs/cli.md#bodycam-run`, `https://…`). */
  links: Located[];
  /** The first cell of every table row in prose (header and separator rows included), as written. */
  firstCells: Located[];
}

const FENCE = /^\s*(`{3,}|~{3,})/;
const SPAN = /(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g;
const LINK = /!?\[(?:[^\]]|\][^(])*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

/** GitHub's heading anchor: lower case, punctuation dropped (letters, digits, `-`, `_` and spaces kept), spaces → `-`. */
export function githubSlug(text: string): string {
  return text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function lineAt(starts: readonly number[], index: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Prose runs (lines outside code blocks) are scanned as a whole, so a code span may wrap a line. */
export function parseMarkdown(file: string, source: string): MarkdownDoc {
  const doc: MarkdownDoc = { file, codeLines: [], codeSpans: [], headings: [], links: [], firstCells: [] };
  const lines = source.split('\n');
  const seen = new Map<string, number>();
  let fence: string | null = null;
  let prose: Array<{ line: number; text: string }> = [];

  const flush = () => {
    if (prose.length === 0) return;
    const text = prose.map((l) => l.text).join('\n');
    const starts: number[] = [];
    let at = 0;
    for (const l of prose) {
      starts.push(at);
      at += l.text.length + 1;
    }
    const lineOf = (index: number) => prose[lineAt(starts, index)]?.line ?? 0;
    for (const m of text.matchAll(SPAN)) {
      const inner = (m[2] ?? '').replace(/\n/g, ' ').replaceAll('\\|', '|');
      const trimmed = inner.startsWith(' ') && inner.endsWith(' ') && inner.trim() !== '' ? inner.slice(1, -1) : inner;
      doc.codeSpans.push({ line: lineOf(m.index), text: trimmed });
    }
    // Links are looked for with the code spans blanked out, so `[x](y)` inside code is not a link.
    const blanked = text.replace(SPAN, (s) => s.replace(/[^\n]/g, ' '));
    for (const m of blanked.matchAll(LINK)) doc.links.push({ line: lineOf(m.index), text: m[1] ?? '' });
    prose = [];
  };

  lines.forEach((text, i) => {
    const line = i + 1;
    const f = FENCE.exec(text);
    if (fence !== null) {
      if (f !== null && f[1]?.[0] === fence[0] && (f[1]?.length ?? 0) >= fence.length) fence = null;
      else doc.codeLines.push({ line, text });
      return;
    }
    if (f !== null) {
      flush();
      fence = f[1] ?? '```';
      return;
    }
    prose.push({ line, text });
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(text);
    if (h !== null) {
      const base = githubSlug((h[2] ?? '').replaceAll('`', ''));
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      doc.headings.push({ line, level: h[1]?.length ?? 1, text: h[2] ?? '', anchor: n === 0 ? base : `${base}-${n}` });
    }
    const row = /^\s*\|((?:[^|\\]|\\.)*)\|/.exec(text);
    if (row !== null) doc.firstCells.push({ line, text: (row[1] ?? '').trim() });
  });
  flush();
  return doc;
}
