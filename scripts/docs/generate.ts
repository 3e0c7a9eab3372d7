/**
 * Writes the generated parts of the documentation: the configuration reference in docs/configuration.md, from the
 * config schema. `--check` writes nothing and exits 1 when the file is stale (test/unit/docs.test.ts does the same).
 * Usage: npm run docs [-- --check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema } from '../../src/config/schema.ts';
import { configRows, renderConfigTable, spliceTable } from './config-reference.ts';

const FILE = path.resolve(import.meta.dirname, '../../docs/configuration.md');

const check = process.argv.includes('--check');
const before = readFileSync(FILE, 'utf8');
const after = spliceTable(before, renderConfigTable(configRows(configSchema)));
if (before === after) {
  console.log(`${path.relative(process.cwd(), FILE)} is up to date`);
} else if (check) {
  console.error(`${path.relative(process.cwd(), FILE)} is stale: run \`npm run docs\``);
  process.exitCode = 1;
} else {
  writeFileSync(FILE, after);
  console.log(`wrote ${path.relative(process.cwd(), FILE)}`);
}
