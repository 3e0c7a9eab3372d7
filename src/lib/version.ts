import { readFileSync } from 'node:fs';

/** This release's version, from package.json (src/lib and dist/lib both sit two levels below it). */
export const RELEASE: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
