/**
 * Builds the custody service's browser assets into DIST/vault/console/assets (DIST: dist/ by default), where
 * src/vault/console/assets.ts serves them from: player.js, the player bundled with age-encryption into one ES module
 * (the page's CSP allows only same-origin scripts, so nothing is loaded from elsewhere), and player.css.
 * Run by `npm run build` (and so by `prepare`), by the tests' global set-up and by the package build.
 *   node scripts/build/console-assets.ts [DIST]
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const repo = path.resolve(import.meta.dirname, '../..');
const browser = path.join(repo, 'src/vault/console/browser');

export async function buildConsoleAssets(dist: string): Promise<void> {
  const out = path.join(dist, 'vault/console/assets');
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [path.join(browser, 'player.ts')],
    outfile: path.join(out, 'player.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Not minified: a custodian (or an auditor) can read what their browser runs.
    tsconfig: path.join(browser, 'tsconfig.json'),
    logLevel: 'warning',
  });
  copyFileSync(path.join(browser, 'player.css'), path.join(out, 'player.css'));
}

if (import.meta.main) await buildConsoleAssets(path.resolve(process.argv[2] ?? path.join(repo, 'dist')));
