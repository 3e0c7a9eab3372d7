/**
 * Topic strings written by hand: every string or template literal in a source tree (parsed by the TypeScript
 * compiler, so comments do not count) that looks like a topic of the sync protocol: one that starts with its root
 * `bodycam/`, holds an `up` or `down` level, or a `+`/`#` wildcard level, and any use of `TOPIC_ROOT` (a topic
 * pieced together from the root). Outside src/protocol there must be none: topics are built and parsed by
 * src/protocol/topics.ts only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const TOPIC_LIKE = [/^bodycam\//, /\/(up|down)(\/|$)/, /\/[+#](\/|$)/, /^[+#]\//];

/** `file:line: text` of each topic-like literal under `dir`, skipping the directories named in `except`. */
export function topicLiterals(dir: string, except: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const file of tsFiles(dir, except)) {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      const pieces = literalPieces(node);
      const root = ts.isIdentifier(node) && node.text === 'TOPIC_ROOT';
      if (root || pieces.some((p) => TOPIC_LIKE.some((re) => re.test(p)))) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        found.push(`${path.relative(dir, file)}:${line + 1}: ${node.getText(source)}`);
        return;
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** The literal text of a string or template literal (each part of a template); none for anything else. */
function literalPieces(node: ts.Node): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.map((s) => s.literal.text)];
  return [];
}

function tsFiles(dir: string, except: readonly string[]): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return except.includes(p) ? [] : tsFiles(p, except);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}
