import { readFileSync } from 'node:fs';

/**
 * This release's version, from package.json (src/lib and dist/lib both sit two levels below it; the Debian package
 * and the bundle ship package.json beside dist/). The one source: `bodycam --version`, the config files, the index
 * and the audit log all take it from here.
 */
export const RELEASE: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** MAJOR.MINOR.PATCH with an optional pre-release (`-rc.1`); build metadata is not used. */
export const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/**
 * Orders two semantic versions (semver.org §11): negative when `a` is older than `b`, 0 when equal, positive when
 * newer. A version that is not semantic throws, since guessing an order could let an older release open newer data.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 3; i += 1) {
    const d = (pa.core[i] ?? 0) - (pb.core[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  // A pre-release is older than its release; pre-release identifiers compare one by one.
  if (pa.pre.length === 0 || pb.pre.length === 0) return Math.sign(pb.pre.length - pa.pre.length);
  for (let i = 0; i < Math.max(pa.pre.length, pb.pre.length); i += 1) {
    const x = pa.pre[i];
    const y = pb.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Math.sign(Number(x) - Number(y));
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function parse(v: string): { core: number[]; pre: string[] } {
  const m = SEMVER.exec(v);
  if (m === null) throw new Error(`${JSON.stringify(v)} is not a semantic version (MAJOR.MINOR.PATCH)`);
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] === undefined ? [] : m[4].split('.') };
}
