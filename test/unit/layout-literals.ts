/**
 * Finds evidence-layout names written as literals: in string literals, template literal parts and regular
 * expressions (comments and import paths are not code that builds a path). Escapes are undone before matching, so
 * `/^footage\//` and `'\.mp4\.age'` count. A name is matched by its kind:
 * - `dir`: a whole path component (`'footage'`, `footage/…`, `…/footage`);
 * - `file`: the name not glued to other letters (`'audit.jsonl'`, `identity/dock.pub`, `index.sqlite-wal`);
 * - `suffix`: the suffix not followed by letters (`.part` matches `x.part` but not `.partial`).
 */
import ts from 'typescript';

export interface LayoutName {
  name: string;
  kind: 'dir' | 'file' | 'suffix';
}

export interface LayoutLiteral {
  line: number;
  name: string;
  text: string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

function matcher(n: LayoutName): RegExp {
  const e = escapeRe(n.name);
  if (n.kind === 'dir') return new RegExp(`^${e}(?:/|$)|/${e}(?![\\w.-])`);
  if (n.kind === 'file') return new RegExp(`(?<![\\w-])${e}(?!\\w)`);
  return new RegExp(`${e}(?!\\w)`);
}

/** Whether `node` is a module path (import, export, `import()`), which names a source file, not a layout path. */
function isModulePath(node: ts.Node): boolean {
  const p = node.parent;
  if (p === undefined) return false;
  if ((ts.isImportDeclaration(p) || ts.isExportDeclaration(p)) && p.moduleSpecifier === node) return true;
  if (ts.isExternalModuleReference(p) || ts.isLiteralTypeNode(p)) return true;
  return ts.isCallExpression(p) && p.expression.kind === ts.SyntaxKind.ImportKeyword;
}

/** The literal's text as written, without its delimiters and with escapes of punctuation undone (`\.`, `\\.` → `.`). */
function literalText(node: ts.Node, sf: ts.SourceFile): string | null {
  const raw = node.getText(sf);
  let body: string;
  switch (node.kind) {
    case ts.SyntaxKind.StringLiteral:
    case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
      body = raw.slice(1, -1);
      break;
    case ts.SyntaxKind.TemplateHead:
    case ts.SyntaxKind.TemplateMiddle:
      body = raw.slice(1, -2);
      break;
    case ts.SyntaxKind.TemplateTail:
      body = raw.slice(1, -1);
      break;
    case ts.SyntaxKind.RegularExpressionLiteral:
      body = raw.slice(1, raw.lastIndexOf('/')).replace(/^\^/, '');
      break;
    default:
      return null;
  }
  return body.replace(/\\+(?=[^\w\s])/g, '');
}

/** Every layout name in a literal of `source` (TypeScript), with its line. */
export function layoutLiterals(file: string, source: string, names: readonly LayoutName[]): LayoutLiteral[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const matchers = names.map((n) => ({ name: n.name, re: matcher(n) }));
  const found: LayoutLiteral[] = [];
  const visit = (node: ts.Node): void => {
    const text = isModulePath(node) ? null : literalText(node, sf);
    if (text !== null) {
      for (const m of matchers) {
        if (!m.re.test(text)) continue;
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        found.push({ line, name: m.name, text: text.length > 80 ? `${text.slice(0, 77)}...` : text });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}
