/** The dock the benches that dock a camera run against: a dock directory and its Mosquitto on a loopback port. */
import path from 'node:path';
import { dockInitCommand } from '../../src/cli/dock.ts';
import { MosquittoBroker } from '../../src/dock/broker.ts';
import { findMosquitto } from '../../src/dock/broker-config.ts';
import { dockLayout } from '../../src/dock/layout.ts';
import { realClock } from '../../src/hal/clock/real.ts';
import { NodeProcessRunner } from '../../src/hal/process/node.ts';

/** Runs `op` with this process's stdout silenced (the dock commands print what a technician reads). */
export async function silently<T>(op: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = () => true;
  try {
    return await op();
  } finally {
    process.stdout.write = write;
  }
}

/**
 * `dock init` in `root/dock` (root must be enterable by the mosquitto user) and its broker started on `port`, run
 * here rather than by a dock station, so that a bench can stop and start the station around it.
 */
export async function dockWithBroker(
  root: string,
  port: number,
): Promise<{ dockDir: string; broker: MosquittoBroker }> {
  const dockDir = path.join(root, 'dock');
  await silently(() =>
    dockInitCommand({ dir: dockDir, host: 'localhost', port, bind: '127.0.0.1', external: true, force: false }),
  );
  const broker = new MosquittoBroker({
    runner: new NodeProcessRunner(),
    clock: realClock,
    mosquittoPath: findMosquitto(),
    confFile: dockLayout(dockDir).broker.conf,
    bind: '127.0.0.1',
    port,
  });
  await broker.start();
  return { dockDir, broker };
}
