/**
 * Dockerfile.arm64 cannot be built here (no Docker engine), so its properties are checked statically: arm64 and
 * bookworm everywhere, a build stage that prunes to production, a runtime stage that runs the daemon as a non-root
 * user in the device groups under tini, with the daemon's Node flags and a `run` command the CLI really has.
 * Each rule is also shown to fire on a Dockerfile that breaks it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/program.ts';
import { DAEMON_NODE_FLAGS } from '../../../src/lib/memory.ts';
import { dockerfileProblems, type Expectations, execForm, parseDockerfile } from './dockerfile-rules.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const text = readFileSync(path.join(REPO, 'Dockerfile.arm64'), 'utf8');
const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};

const want: Expectations = {
  nodeVersion: lock.packages['node_modules/node']?.version ?? 'unknown',
  daemonNodeFlags: DAEMON_NODE_FLAGS,
  runtimePackages: ['ffmpeg', 'alsa-utils', 'espeak-ng', 'tini'],
  groups: ['video', 'audio', 'gpio'],
};

describe('Dockerfile.arm64', () => {
  it('keeps every rule', () => {
    expect(dockerfileProblems(text, want)).toEqual([]);
  });

  it('runs a command the CLI has: `run` with a required --config', () => {
    const { stages } = parseDockerfile(text);
    const runtime = stages[stages.length - 1];
    const cmd = execForm(runtime?.instructions.find((i) => i.keyword === 'CMD')?.args ?? '');
    expect(cmd?.slice(0, 2)).toEqual(['run', '--config']);
    const run = buildProgram().commands.find((c) => c.name() === 'run');
    const config = run?.options.find((o) => o.long === '--config');
    expect(config?.mandatory).toBe(true);
    expect(run?.options.map((o) => o.long)).toEqual(['--config']);
  });

  it('keeps node_modules, keys and evidence out of the build context (.dockerignore is an allow-list)', () => {
    const lines = readFileSync(path.join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    expect(lines.filter((l) => l.startsWith('!')).sort()).toEqual(
      ['!hardware', '!package-lock.json', '!package.json', '!src', '!tsconfig.build.json', '!tsconfig.json'].sort(),
    );
  });
});

describe('the rules fire on a Dockerfile that breaks them', () => {
  const cases: [string, (t: string) => string, RegExp][] = [
    [
      'an amd64 stage',
      (t) => t.replace('FROM --platform=linux/arm64 debian', 'FROM --platform=linux/amd64 debian'),
      /not --platform=linux\/arm64/,
    ],
    ['another Debian', (t) => t.replace('debian:bookworm-slim', 'debian:trixie-slim'), /not Debian bookworm/],
    ['one stage', (t) => t.slice(0, t.indexOf('FROM --platform=linux/arm64 debian')), /multi-stage: 1 stage/],
    [
      'a Node other than the lock',
      (t) => t.replace(/ARG NODE_VERSION=\S+/, 'ARG NODE_VERSION=22.1.0'),
      /the lock pins/,
    ],
    [
      'no prune',
      (t) => t.replace('npm prune --omit=dev --ignore-scripts --no-audit --no-fund \\\n  && ', ''),
      /not pruned/,
    ],
    ['root', (t) => t.replace('USER bodycam', 'USER root'), /runs as root/],
    ['no USER', (t) => t.replace('USER bodycam\n', ''), /runs as root/],
    ['no gpio group', (t) => t.replace('--groups video,audio,gpio', '--groups video,audio'), /not in group gpio/],
    ['no init', (t) => t.replace('"/usr/bin/tini", "--", ', ''), /tini is not PID 1/],
    ['dev deps at run time', (t) => t.replace('USER bodycam', 'RUN npm install\nUSER bodycam'), /devDependencies/],
    [
      'no ffmpeg',
      (t) => t.replace('install -y --no-install-recommends ffmpeg ', 'install -y --no-install-recommends '),
      /ffmpeg not installed/,
    ],
    ['other Node flags', (t) => t.replace('"--v8-pool-size=1", ', ''), /Node flags/],
    [
      'another command',
      (t) => t.replace('CMD ["run", "--config"', 'CMD ["serve", "--config"'),
      /not "run --config FILE"/,
    ],
    [
      'sources in the runtime',
      (t) => t.replace('COPY hardware ./hardware', 'COPY src ./src\nCOPY hardware ./hardware'),
      /copies src/,
    ],
  ];
  it.each(cases)('%s', (_name, mutate, problem) => {
    const broken = mutate(text);
    expect(broken).not.toBe(text);
    expect(dockerfileProblems(broken, want).join('\n')).toMatch(problem);
  });
});
