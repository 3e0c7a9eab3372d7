/**
 * The promise rules with TypeScript's own type checker, for what biome's promise rules (`noFloatingPromises`,
 * `noMisusedPromises`, nursery in biome 2.6, on biome's own partial type inference) can miss, such as an async
 * listener given to an EventEmitter or a timer:
 * - `floating`: a statement whose value is a promise that is neither awaited, returned, `void`ed nor assigned, and
 *   has no rejection handler (`.catch(f)`, `.then(f, g)`);
 * - `misused`: a function returning a promise passed where a callback returning void is expected: its rejection
 *   reaches no one.
 * `void p` stays allowed, as in biome: it says "nobody waits for this", and a rejection then ends the program through
 * its fatal handler (src/lib/fatal.ts), which is right for a bug and wrong for an expected failure (give it a catch).
 */
import path from 'node:path';
import ts from 'typescript';

export interface PromiseProblem {
  file: string;
  line: number;
  kind: 'floating' | 'misused';
  text: string;
}

const thenable = (t: ts.Type): boolean => (t.isUnion() ? t.types.some(thenable) : t.getProperty('then') !== undefined);
const VOIDISH = ts.TypeFlags.Void | ts.TypeFlags.Undefined;
const voidish = (t: ts.Type): boolean => (t.flags & VOIDISH) !== 0 && !thenable(t);
const ASSIGNMENTS = new Set([
  ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
]);

function handled(e: ts.Expression): boolean {
  if (ts.isAwaitExpression(e) || ts.isVoidExpression(e)) return true;
  if (ts.isBinaryExpression(e) && ASSIGNMENTS.has(e.operatorToken.kind)) return true;
  if (!ts.isCallExpression(e) || !ts.isPropertyAccessExpression(e.expression)) return false;
  const method = e.expression.name.text;
  return (method === 'catch' && e.arguments.length >= 1) || (method === 'then' && e.arguments.length >= 2);
}

/** The floating and misused promises in the source files of `program` that `include` selects. */
export function promiseProblems(program: ts.Program, include: (file: string) => boolean): PromiseProblem[] {
  const checker = program.getTypeChecker();
  const found: PromiseProblem[] = [];
  for (const sf of program.getSourceFiles()) {
    if (!include(sf.fileName)) continue;
    const report = (node: ts.Node, kind: PromiseProblem['kind']) =>
      found.push({
        file: sf.fileName,
        line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
        kind,
        text: node.getText(sf).replace(/\s+/g, ' ').slice(0, 100),
      });
    const visit = (node: ts.Node): void => {
      if (ts.isExpressionStatement(node)) {
        if (!handled(node.expression) && thenable(checker.getTypeAtLocation(node.expression))) report(node, 'floating');
      } else if (
        (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) &&
        (ts.isCallExpression(node.parent) || ts.isNewExpression(node.parent))
      ) {
        const signature = checker.getSignatureFromDeclaration(node);
        const returns = signature === undefined ? undefined : checker.getReturnTypeOfSignature(signature);
        const expected = checker.getContextualType(node)?.getCallSignatures() ?? [];
        if (
          returns !== undefined &&
          thenable(returns) &&
          expected.length > 0 &&
          expected.every((s) => voidish(checker.getReturnTypeOfSignature(s)))
        ) {
          report(node.parent, 'misused');
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

/** A program of `rootNames` with the repository's compiler options; `extra` files exist only in memory. */
export function programOf(repo: string, rootNames: string[], extra: ReadonlyMap<string, string> = new Map()) {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(repo, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (config === undefined) throw new Error('tsconfig.json cannot be read');
  const host = ts.createCompilerHost(config.options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => extra.has(f) || fileExists.call(host, f);
  host.readFile = (f) => extra.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, language, ...rest) => {
    const text = extra.get(f);
    return text === undefined ? getSourceFile.call(host, f, language, ...rest) : ts.createSourceFile(f, text, language);
  };
  return ts.createProgram({ rootNames: [...rootNames, ...extra.keys()], options: config.options, host });
}
