/** Semantic versions: the one source of the release, and their order (which refuses downgrades). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareVersions, RELEASE, SEMVER } from '../../../src/lib/version.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');

describe('RELEASE', () => {
  it("is package.json's version, a semantic version with an entry in CHANGELOG.md", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(RELEASE).toBe(pkg.version);
    expect(SEMVER.test(RELEASE)).toBe(true);
    const changelog = readFileSync(path.join(REPO, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(new RegExp(`^## ${RELEASE.replaceAll('.', '\\.')} `, 'm'));
    expect(changelog).toMatch(/^## 0\.1\.0 /m);
  });

  it('is the version package-lock.json records for the project', () => {
    const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
      version: string;
      packages: Record<string, { version?: string }>;
    };
    expect([lock.version, lock.packages['']?.version]).toEqual([RELEASE, RELEASE]);
  });
});

describe('compareVersions', () => {
  it.each([
    ['0.1.0', '0.2.0', -1],
    ['0.2.0', '0.1.0', 1],
    ['0.2.0', '0.2.0', 0],
    ['0.10.0', '0.9.9', 1],
    ['1.0.0', '0.99.99', 1],
    ['0.2.1', '0.2.0', 1],
    ['0.2.0-rc.1', '0.2.0', -1],
    ['0.2.0', '0.2.0-rc.1', 1],
    ['0.2.0-rc.2', '0.2.0-rc.10', -1],
    ['0.2.0-alpha', '0.2.0-beta', -1],
    ['0.2.0-1', '0.2.0-alpha', -1],
    ['0.2.0-rc', '0.2.0-rc.1', -1],
  ])('%s against %s: %i', (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
  });

  it.each(['0.2', 'v0.2.0', '0.2.0.1', '01.2.0', '', '0.2.0+build'])('refuses %j', (v) => {
    expect(() => compareVersions(v, '0.2.0')).toThrow(/not a semantic version/);
  });
});
