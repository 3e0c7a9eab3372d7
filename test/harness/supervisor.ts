/**
 * A camera installed as in the field, for update tests: a release root (releases/<version>/ with package.json and
 * the built dist/, `current` pointing at one), and a supervisor standing in for systemd behind the same contract as
 * the unit: it starts `ROOT/current/dist/cli/bodycam.js run`, and starts it again when it exits with status 75 (the
 * unit's RestartForceExitStatus); any other exit stays down. Dependencies are shared from the repository
 * (ROOT/node_modules links to it): in the field a release bundle carries its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, REPO } from './daemon.ts';

export const RESTART_STATUS = 75;

/** A release directory of `version`: the repository's package.json (version set) and dist/, then `patch` applied. */
export function releaseTree(dir: string, version: string, patch?: (dir: string) => void): string {
  mkdirSync(dir, { recursive: true });
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
  cpSync(path.join(REPO, 'dist'), path.join(dir, 'dist'), { recursive: true });
  patch?.(dir);
  return dir;
}

/** A release root with `version` installed and current. */
export function releaseRoot(version: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'bodycam-root-'));
  symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
  releaseTree(path.join(root, 'releases', version), version);
  symlinkSync(path.join('releases', version), path.join(root, 'current'));
  return root;
}

/** `bodycam bundle pack` of a release tree or a config file; throws with stderr on failure. */
export function pack(
  kind: 'release' | 'config',
  version: string,
  key: string,
  from: string,
  out: string,
  downgrade = false,
): string {
  const args = [
    'bundle',
    'pack',
    '--kind',
    kind,
    '--bundle-version',
    version,
    '--key',
    key,
    '--from',
    from,
    '--out',
    out,
  ];
  const r = cli(downgrade ? [...args, '--allow-downgrade'] : args);
  if (r.code !== 0) throw new Error(`bundle pack failed (${r.code}): ${r.stderr}`);
  return out;
}

export class Supervisor {
  readonly starts: Array<{ release: string; code: number | null }> = [];
  log = '';
  #child: ChildProcess | null = null;
  #stopped = false;
  readonly #root: string;
  readonly #configFile: string;
  readonly #onStart: () => void;

  constructor(root: string, configFile: string, onStart: () => void = () => undefined) {
    this.#root = root;
    this.#configFile = configFile;
    this.#onStart = onStart;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null;
  }

  start(): void {
    const entry = path.join(this.#root, 'current', 'dist', 'cli', 'bodycam.js');
    const start = {
      release: path.basename(realpathSync(path.join(this.#root, 'current'))),
      code: null as number | null,
    };
    this.starts.push(start);
    const child = spawn(process.execPath, [entry, 'run', '--config', this.#configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stdout?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    child.on('exit', (code) => {
      start.code = code;
      if (!this.#stopped && code === RESTART_STATUS) setTimeout(() => this.start(), 200);
    });
    this.#onStart();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const c = this.#child;
    if (c === null || c.exitCode !== null) return;
    const exited = new Promise((r) => c.on('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
}
