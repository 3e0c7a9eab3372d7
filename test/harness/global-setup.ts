/** The scenario tests run the CLI as shipped (compiled to dist/, with the browser assets); build it once before any test. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const repo = path.resolve(import.meta.dirname, '../..');
  execFileSync(path.join(repo, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], {
    cwd: repo,
    stdio: 'inherit',
  });
  execFileSync(process.execPath, [path.join(repo, 'scripts/build/console-assets.ts')], { cwd: repo, stdio: 'inherit' });
}
