/**
 * Scenario harness: runs the real `bodycam` CLI and daemon as child processes (Node 24, real ffmpeg, real SQLite,
 * sim GPIO driven through the control socket), the way a technician or the dock would.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CameraStatus } from '../../src/camera/status.ts';
import type { ListedIncident } from '../../src/cli/list.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(REPO, 'dist/cli/bodycam.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export async function cliAsync(args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  return { code, stdout, stderr };
}

export interface Camera {
  dir: string;
  configFile: string;
  identityFile: string;
}

/** keygen + init --board sim in a fresh temp dir; `patch` edits the written config (tests run faster settings). */
export function makeSimCamera(patch?: (config: Record<string, any>) => void): Camera {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-'));
  const identityFile = path.join(dir, 'custodian.key');
  const keygen = cli(['keygen', '--out', identityFile]);
  if (keygen.code !== 0) throw new Error(`keygen failed: ${keygen.stderr}`);
  const recipient = keygen.stdout.trim();
  const camDir = path.join(dir, 'cam');
  const init = cli(['init', '--board', 'sim', '--dir', camDir, '--recipient', recipient]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const configFile = path.join(camDir, 'config.json');
  if (patch !== undefined) {
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, any>;
    patch(config);
    writeFileSync(configFile, JSON.stringify(config, null, 2));
  }
  return { dir: camDir, configFile, identityFile };
}

export class Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly camera: Camera;
  log = '';

  constructor(camera: Camera) {
    this.camera = camera;
    this.child = spawn(process.execPath, [CLI, 'run', '--config', camera.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  async status(): Promise<Status> {
    const r = await cliAsync(['ctl', '--config', this.camera.configFile, 'status']);
    if (r.code !== 0) throw new Error(`status failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as Status;
  }

  async press(input: string, count = 1, holdMs = 0): Promise<void> {
    const args = ['ctl', '--config', this.camera.configFile, 'press', input, '--count', String(count)];
    if (holdMs > 0) args.push('--hold', String(holdMs));
    const r = await cliAsync(args);
    if (r.code !== 0) throw new Error(`press failed (${r.code}): ${r.stderr}`);
  }

  /** The running camera's event log, oldest first. */
  async events(limit = 1000): Promise<DeviceEvent[]> {
    const r = await cliAsync(['ctl', '--config', this.camera.configFile, 'events', '--json', '--limit', String(limit)]);
    if (r.code !== 0) throw new Error(`events failed (${r.code}): ${r.stderr}`);
    return (JSON.parse(r.stdout) as { events: DeviceEvent[] }).events;
  }

  /** Polls the event log until an event of `kind` (for `incident`, if given) is there. */
  async waitForEvent(kind: string, timeoutMs: number, incident?: string): Promise<DeviceEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`daemon exited while waiting for ${kind}:\n${this.log.slice(-3000)}`);
      const found = (await this.events().catch(() => [])).find(
        (e) => e.kind === kind && (incident === undefined || e.incidentId === incident),
      );
      if (found !== undefined) return found;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for event ${kind}\n${this.log.slice(-3000)}`);
  }

  /** Polls status until `pred` holds; fails with the daemon's log tail on timeout. */
  async waitFor(pred: (s: Status) => boolean, timeoutMs: number, what: string): Promise<Status> {
    const deadline = Date.now() + timeoutMs;
    let last: Status | null = null;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null)
        throw new Error(`daemon exited while waiting for ${what}:\n${this.log.slice(-3000)}`);
      try {
        last = await this.status();
        if (pred(last)) return last;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last)}\n${this.log.slice(-3000)}`);
  }

  async terminate(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** One incident of about `seconds` of media, recorded by a running sim daemon (trigger press, hold to stop). */
export async function recordIncident(daemon: Daemon, seconds: number): Promise<void> {
  await daemon.waitFor((s) => s.ring.seconds >= 2 && s.state === 'buffering', 60_000, 'pre-roll');
  await daemon.press('trigger', 1);
  const start = (await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording')).capture.mediaMs;
  await daemon.waitFor((s) => s.capture.mediaMs >= start + seconds * 1000, 90_000, 'footage');
  await daemon.press('record', 1, 3500);
  await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
}

export interface DeviceEvent {
  id: number;
  at: string;
  kind: string;
  incidentId: string | null;
  data: Record<string, unknown>;
}

/** The shapes the CLI prints, taken from the code that prints them. */
export type Status = CameraStatus;
export type { ListedIncident };

export function list(camera: Camera): ListedIncident[] {
  const r = cli(['list', '--config', camera.configFile, '--json']);
  if (r.code !== 0) throw new Error(`list failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { incidents: ListedIncident[] }).incidents;
}
