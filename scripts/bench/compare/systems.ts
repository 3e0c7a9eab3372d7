/**
 * The recorders under comparison, each as a controller process the comparison starts, talks to (protocol.ts) and
 * measures (procstat.ts). GStreamer is optional: without gst-launch-1.0 and python3-gi its rows say so.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command, Report } from './protocol.ts';

const HERE = import.meta.dirname;
const DEBIAN_PYTHON = '/usr/bin/python3'; // python3-gi is Debian's; a pyenv python on PATH does not see it

export interface SystemSpec {
  key: string;
  label: string;
  /** What the figures count as the recorder, said in the README. */
  counted: string;
  command: string;
  args(feed: string, out: string): string[];
  /** Environment added to the controller's (a value already set wins, as in the launchers). */
  env?: Readonly<Record<string, string>>;
  /** Process names left out of the CPU and RSS sums (the encoder's stand-in). */
  exclude: string[];
}

export interface SystemOptions {
  prerollSeconds: number;
  fps: number;
  kbps: number;
  width: number;
  height: number;
  nodeFlags: readonly string[];
  /** The daemon's environment (src/lib/memory.ts DAEMON_ENV), given to bodycam's camera process and its ffmpeg. */
  daemonEnv: Readonly<Record<string, string>>;
  /** How the Node controllers are started: the command and its first arguments (default: this Node). */
  node?: readonly string[];
}

export function gstreamerMissing(): string | null {
  const r = spawnSync(
    DEBIAN_PYTHON,
    ['-c', "import gi; gi.require_version('Gst','1.0'); from gi.repository import Gst; Gst.init(None)"],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return 'python3-gi with GStreamer 1.0 is not installed (scripts/setup.sh installs it)';
  const inspect = spawnSync('gst-inspect-1.0', ['h264parse'], { encoding: 'utf8' });
  if (inspect.status !== 0) return 'gst-inspect-1.0 or h264parse (gstreamer1.0-plugins-bad) is missing';
  return null;
}

export function systemSpecs(o: SystemOptions, withGst: boolean): SystemSpec[] {
  const common = ['--preroll', String(o.prerollSeconds), '--fps', String(o.fps)];
  const [node = process.execPath, ...nodeArgs] = o.node ?? [process.execPath];
  const gst = (hold: 'probe' | 'valve', label: string, counted: string): SystemSpec => ({
    key: `gst-${hold}`,
    label,
    counted,
    command: DEBIAN_PYTHON,
    args: (feed, out) => [path.join(HERE, 'gst_worker.py'), '--feed', feed, '--out', out, '--hold', hold, ...common],
    exclude: [],
  });
  const specs: SystemSpec[] = [
    {
      key: 'bodycam',
      label: 'bodycam',
      counted: 'the camera process (Node, daemon flags, run from .ts) and its ffmpeg (stream copy to fMP4)',
      command: node,
      args: (feed, out) => [
        ...nodeArgs,
        ...o.nodeFlags,
        path.join(HERE, 'bodycam-worker.ts'),
        ...['--feed', feed, '--out', out, '--kbps', String(o.kbps)],
        ...['--width', String(o.width), '--height', String(o.height), ...common],
      ],
      exclude: ['cat', 'feed.sh'],
      env: o.daemonEnv,
    },
    {
      key: 'segment-wrap',
      label: 'ffmpeg segment_wrap',
      counted: 'the copying controller (Node) and ffmpeg -f segment (stream copy, 1 s MPEG-TS segments)',
      command: node,
      args: (feed, out) => [
        ...nodeArgs,
        path.join(HERE, 'segment-wrap-worker.ts'),
        '--feed',
        feed,
        '--out',
        out,
        ...common,
      ],
      exclude: [],
    },
  ];
  if (withGst) {
    specs.push(
      gst('probe', 'GStreamer queue+probe', 'one Python process running the pipeline and its controller'),
      gst('valve', 'GStreamer queue+valve', 'one Python process running the pipeline and its controller'),
    );
  }
  return specs;
}

export class Controller {
  readonly child: ChildProcess;
  readonly reports: Report[] = [];
  readonly #waiters: { test: (r: Report) => boolean; resolve: (r: Report) => void }[] = [];

  constructor(spec: SystemSpec, feed: string, out: string) {
    this.child = spawn(spec.command, spec.args(feed, out), {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...spec.env, ...process.env },
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const r = JSON.parse(line) as Report;
      this.reports.push(r);
      for (const w of this.#waiters.filter((x) => x.test(r))) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(r);
      }
    });
  }

  send(c: Command): void {
    this.child.stdin?.write(`${JSON.stringify(c)}\n`);
  }

  next(test: (r: Report) => boolean, timeoutMs: number): Promise<Report | undefined> {
    const seen = this.reports.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const w = { test, resolve: (r: Report | undefined) => resolve(r) };
      this.#waiters.push(w as { test: (r: Report) => boolean; resolve: (r: Report) => void });
      setTimeout(() => resolve(undefined), timeoutMs).unref();
    });
  }

  async quit(timeoutMs: number): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.send({ cmd: 'quit' });
    this.child.stdin?.end();
    const t = setTimeout(() => this.child.kill('SIGTERM'), timeoutMs);
    await exited;
    clearTimeout(t);
  }
}
