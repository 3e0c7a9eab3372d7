/**
 * The custody service's static browser assets, served under /assets/: only the files named here, read from where the
 * build leaves them (scripts/build/console-assets.ts: dist/vault/console/assets, beside this module once compiled; the
 * Debian package ships dist/ whole). Run from src/ (tests, `node src/…`), the module finds them in the checkout's dist/.
 * A request for anything else, a path with `..`, or an asset that was never built answers null (404 for the server).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const TYPES: Record<string, string> = {
  'player.js': 'text/javascript; charset=utf-8',
  'player.css': 'text/css; charset=utf-8',
};

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

function assetDir(): string {
  const beside = path.join(import.meta.dirname, 'assets');
  if (existsSync(beside)) return beside;
  return path.resolve(import.meta.dirname, '../../../dist/vault/console/assets');
}

const cache = new Map<string, ConsoleAsset>();

/** The asset for a request path such as `/assets/player.js`, or null. Read once, then kept in memory. */
export function consoleAsset(pathname: string): ConsoleAsset | null {
  const name = pathname.startsWith('/assets/') ? pathname.slice('/assets/'.length) : null;
  if (name === null || !Object.hasOwn(TYPES, name)) return null;
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const file = path.join(assetDir(), name);
  if (!existsSync(file)) return null;
  const asset = { body: readFileSync(file), contentType: TYPES[name] ?? 'application/octet-stream' };
  cache.set(name, asset);
  return asset;
}
