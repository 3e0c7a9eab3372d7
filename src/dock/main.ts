/**
 * The dock station's composition root: the broker (a supervised Mosquitto, unless the site runs its own), the
 * agent's MQTT client with its certificate, the progress database, the evidence store and the agent. Parts start
 * in dependency order and stop in reverse.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { keyId, loadPrivateKey } from '../evidence/keys.ts';
import type { Clock } from '../hal/clock/port.ts';
import { realClock } from '../hal/clock/real.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import type { ProcessRunner } from '../hal/process/port.ts';
import { Lifecycle } from '../lib/lifecycle.ts';
import type { Logger } from '../lib/logger.ts';
import { MAX_PACKET_BYTES } from '../protocol/limits.ts';
import { dockBroker, type MosquittoBroker } from './broker.ts';
import { missingHardening } from './broker-config.ts';
import { EnrolledDevices } from './enrolled.ts';
import { DOCK_AGENT_CN, dockLayout, loadDockConfig } from './layout.ts';
import { openEvidenceStore } from './store/open.ts';
import { DockAgent } from './sync/agent.ts';
import { Progress } from './sync/progress.ts';

export interface DockDeps {
  processes?: ProcessRunner;
  clock?: Clock;
  /** A line of per-camera progress for the terminal. */
  onProgress?: (device: string, line: string) => void;
  /** How often incoming footage is made durable (default 16 MiB): the resume granularity after a crash. */
  checkpointBytes?: number;
}

export class DockStation {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #deps: DockDeps;
  readonly #started: Lifecycle;
  #broker: MosquittoBroker | null = null;

  constructor(dir: string, logger: Logger, deps: DockDeps = {}) {
    this.#dir = dir;
    this.#log = logger;
    this.#deps = deps;
    this.#started = new Lifecycle(logger);
  }

  /** The managed broker (null when the site runs its own), for status and fault tests. */
  get broker(): MosquittoBroker | null {
    return this.#broker;
  }

  async start(): Promise<void> {
    const config = loadDockConfig(this.#dir);
    const layout = dockLayout(this.#dir);
    const clock = this.#deps.clock ?? realClock;
    const processes = this.#deps.processes ?? new NodeProcessRunner({ clock });
    const privateKey = loadPrivateKey(readFileSync(layout.identity.key, 'utf8'));
    const dock = { privateKey, keyId: keyId(createPublicKey(privateKey)) };

    const evidence = await openEvidenceStore(config.store, layout, this.#log.child({ component: 'store' }));
    this.#started.add('store', () => evidence.close());
    const conf = (() => {
      try {
        return readFileSync(layout.broker.conf, 'utf8');
      } catch {
        return null; // an external broker's configuration may live elsewhere
      }
    })();
    const missing = conf === null ? [] : missingHardening(conf);
    if (missing.length > 0) {
      this.#log.error(
        { file: layout.broker.conf, missing },
        'the broker configuration lacks settings that keep one camera from stopping the dock; rewrite it with `bodycam dock init --force` (an external broker: add them)',
      );
    }
    const progress = Progress.open(this.#dir);
    this.#started.add('progress', () => progress.close());
    if (config.broker === 'managed') {
      const broker = dockBroker(this.#dir, {
        runner: processes,
        clock,
        logger: this.#log.child({ component: 'broker' }),
      });
      await this.#started.start('broker', broker);
      this.#broker = broker;
    }
    const { connect } = await import('mqtt');
    const client = connect({
      protocol: 'mqtts',
      host: config.bind === '0.0.0.0' ? 'localhost' : config.bind,
      servername: config.host,
      port: config.port,
      protocolVersion: 5,
      // The broker replaces every client id with the certificate's CN (use_username_as_clientid): ours is fixed to
      // it, so no camera can take it over and disconnect the agent.
      clientId: DOCK_AGENT_CN,
      ca: readFileSync(layout.pki.caCert),
      cert: readFileSync(layout.pki.agentCert),
      key: readFileSync(layout.pki.agentKey),
      rejectUnauthorized: true,
      reconnectPeriod: 1000,
      clean: true,
      // The broker sends nothing larger; a larger packet would not be a message of ours.
      properties: { maximumPacketSize: MAX_PACKET_BYTES },
    });
    client.on('error', (e) => this.#log.warn({ message: e.message }, 'broker connection'));
    client.on('connect', () => this.#log.info({ clientId: DOCK_AGENT_CN }, 'connected to the broker'));
    client.on('close', () => {
      if (!client.disconnecting) this.#log.warn('lost the broker connection');
    });
    const enrolled = new EnrolledDevices(this.#dir);
    const agent = new DockAgent({
      client,
      progress,
      store: evidence.store,
      incomingDir: layout.incomingDir,
      deviceKey: (device) => enrolled.key(device),
      limits: config.limits,
      clock,
      freeBytes: async () => {
        const fs = await statfs(layout.dir);
        return fs.bavail * fs.bsize;
      },
      dock,
      logger: this.#log.child({ component: 'agent' }),
      ...(this.#deps.onProgress === undefined ? {} : { onProgress: this.#deps.onProgress }),
      ...(this.#deps.checkpointBytes === undefined ? {} : { checkpointBytes: this.#deps.checkpointBytes }),
    });
    await this.#started.start('agent', agent);
    this.#log.info({ dir: layout.dir, port: config.port, broker: config.broker, store: evidence.where }, 'dock ready');
  }

  async stop(): Promise<void> {
    await this.#started.stop();
  }
}
