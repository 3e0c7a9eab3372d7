/**
 * The dock station as a process an operator runs: `bodycam dock run` killed with SIGKILL leaves no Mosquitto behind
 * holding its port, the next `dock run` starts, and a broker of this dock that is still running (left by a release
 * that did not stop it) is named with the way to stop it instead of a bare "Address already in use".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { brokersUsing } from '../../../src/dock/broker.ts';
import { dockLayout } from '../../../src/dock/layout.ts';
import { enrollCamera, makeDock, until } from '../../harness/broker.ts';
import { CLI, cli, makeSimCamera } from '../../harness/daemon.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** `bodycam dock run --dir DIR` as a child; resolves once it printed that it is ready. */
async function dockRun(
  dir: string,
): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'dock', 'run', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('bodycam dock run as a process', () => {
  it('killed with SIGKILL leaves no Mosquitto behind, and the next dock run starts', async () => {
    const dock = await makeDock();
    const conf = dockLayout(dock.dir).broker.conf;
    const first = await dockRun(dock.dir);
    await until(() => first.output().includes('dock ready'), 'the first dock ready', 20_000);
    expect(await brokersUsing(conf)).toHaveLength(1);
    first.child.kill('SIGKILL');
    await first.exited;
    const gone = Date.now() + 5000;
    while ((await brokersUsing(conf)).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
    expect(await brokersUsing(conf)).toEqual([]);
    const second = await dockRun(dock.dir);
    await until(() => second.output().includes('dock ready'), 'the second dock ready', 20_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(await brokersUsing(conf)).toEqual([]);
  });

  it('names a broker of this dock still holding the port, and how to stop it', async () => {
    const dock = await makeDock();
    const conf = dockLayout(dock.dir).broker.conf;
    // A broker left running without a parent watching it, as an older release could leave one.
    const orphan = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore', detached: true });
    children.push(orphan);
    await until(() => orphan.pid !== undefined, 'the orphan broker', 5000);
    const ready = Date.now() + 10_000;
    while ((await brokersUsing(conf)).length === 0 && Date.now() < ready) await new Promise((r) => setTimeout(r, 50));
    // Its port must be open before the dock looks: the dock would otherwise start a second broker that fails.
    await new Promise((r) => setTimeout(r, 500));
    const run = await dockRun(dock.dir);
    expect(await run.exited).not.toBe(0);
    expect(run.output()).toContain(
      `127.0.0.1:${dock.port} is already in use; a mosquitto of this dock is still running (pid ${orphan.pid}`,
    );
    expect(run.output()).toContain(`kill ${orphan.pid}`);
    orphan.kill('SIGKILL');
  });
});

describe('bodycam dock status', () => {
  it('lists a camera enrolled but never docked', async () => {
    const dock = await makeDock();
    expect(cli(['dock', 'status', '--dir', dock.dir]).stdout).toBe('no camera is enrolled at this dock\n');
    const camera = makeSimCamera((c) => {
      c['device'].id = 'cam-new';
    });
    enrollCamera(dock.dir, camera.configFile);
    const text = cli(['dock', 'status', '--dir', dock.dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('cam-new: enrolled, never docked\n');
    const json = JSON.parse(cli(['dock', 'status', '--dir', dock.dir, '--json']).stdout);
    expect(json.devices).toEqual([
      expect.objectContaining({ device: 'cam-new', enrolled: true, lastSeen: null, stored: 0 }),
    ]);
  });
});
