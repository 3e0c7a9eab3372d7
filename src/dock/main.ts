/**
 * The dock station's composition root: the broker (a supervised Mosquitto, unless the site runs its own), the
 * agent's connection to it (the MQTT transport with the agent's certificate), the progress database, the evidence
 * store, the agent, the fleet status it publishes and the operator's page. Parts start in dependency order and stop
 * in reverse.
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
import { DOCK_AGENT_CN } from '../protocol/acl.ts';
import type { Hello } from '../protocol/messages.ts';
import { MqttTransport } from '../protocol/transport/mqtt.ts';
import type { SyncTransport } from '../protocol/transport/port.ts';
import { dockBroker, type MosquittoBroker } from './broker.ts';
import { missingHardening } from './broker-config.ts';
import { EnrolledDevices, enrolledDeviceIds } from './enrolled.ts';
import { watchFile } from './file-watch.ts';
import { FleetPublisher } from './fleet-publisher.ts';
import { type DockConfig, type DockLayout, dockLayout, loadDockConfig } from './layout.ts';
import { dockPageModel } from './page/model.ts';
import { DockPageServer } from './page/server.ts';
import { readWithdrawals } from './revocation.ts';
import { openEvidenceStore } from './store/open.ts';
import { StagedEvidenceStore } from './store/staged.ts';
import { DockAgent } from './sync/agent.ts';
import { Progress } from './sync/progress.ts';
import { DockUpdates, pendingUpdates } from './updates.ts';

/** How often the running dock looks at its revocation list. */
const CRL_LOOK_MS = 2000;

export interface DockDeps {
  processes?: ProcessRunner;
  clock?: Clock;
  /** A line of per-camera progress for the terminal. */
  onProgress?: (device: string, line: string) => void;
  /** How often incoming footage is made durable (default 16 MiB): the resume granularity after a crash. */
  checkpointBytes?: number;
  /** The agent's connection to the broker, opened at start and closed at stop; default: MQTT (dockTransport). */
  transport?: SyncTransport;
  /** How soon the object store is asked again after it did not answer (default 2 s, doubling up to 60 s). */
  storeRetry?: { retryMs: number; retryMaxMs: number };
  /** How often the fleet status is built again and changes published (default 5 s). */
  fleetLookMs?: number;
}

export class DockStation {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #deps: DockDeps;
  readonly #started: Lifecycle;
  #broker: MosquittoBroker | null = null;
  #staged: StagedEvidenceStore | null = null;
  #pageUrl: string | null = null;

  constructor(dir: string, logger: Logger, deps: DockDeps = {}) {
    this.#dir = dir;
    this.#log = logger;
    this.#deps = deps;
    this.#started = new Lifecycle(logger);
  }

  /** What waits at the dock for the object store (null for a filesystem store), for tests. */
  get staged(): StagedEvidenceStore | null {
    return this.#staged;
  }

  /** The managed broker (null when the site runs its own), for status and fault tests. */
  get broker(): MosquittoBroker | null {
    return this.#broker;
  }

  /** Where the dock's own page is served (null: off, or it could not listen). */
  get pageUrl(): string | null {
    return this.#pageUrl;
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
    const progress = Progress.open(this.#dir, { wallNow: () => clock.wallNow() });
    this.#started.add('progress', () => progress.close());
    let store = evidence.store;
    if (config.store.kind === 's3') {
      const staged = new StagedEvidenceStore({
        store,
        backlog: progress.backlog,
        stagingDir: layout.stagingDir,
        clock,
        log: this.#log.child({ component: 'staging' }),
        ...this.#deps.storeRetry,
      });
      await staged.start();
      this.#started.add('staging', () => staged.stop());
      store = staged;
      this.#staged = staged;
    }
    if (config.broker === 'managed') {
      const broker = dockBroker(this.#dir, {
        runner: processes,
        clock,
        logger: this.#log.child({ component: 'broker' }),
      });
      await this.#started.start('broker', broker);
      this.#broker = broker;
      // `bodycam dock withdraw` issues a new revocation list; the broker re-reads it within 2 s, clients stay.
      const crl = await watchFile(layout.pki.crl, clock, CRL_LOOK_MS, () => {
        this.#log.info({ file: layout.pki.crl }, 'the revocation list changed: the broker re-reads it');
        broker.reload();
      });
      this.#started.add('revocation list watch', () => crl.stop());
    }
    const transport = this.#deps.transport ?? dockTransport(config, layout);
    transport.on('error', (e) => this.#log.warn({ message: e.message }, 'broker connection'));
    transport.on('connect', () => this.#log.info({ clientId: DOCK_AGENT_CN }, 'connected to the broker'));
    transport.on('lost', () => this.#log.warn('lost the broker connection'));
    await transport.open();
    this.#started.add('broker connection', () => transport.close());
    const enrolled = new EnrolledDevices(this.#dir);
    const fleet = new FleetPublisher({
      transport,
      progress,
      enrolled: () => enrolledDeviceIds(this.#dir),
      withdrawals: () => readWithdrawals(layout),
      clock,
      logger: this.#log.child({ component: 'fleet' }),
      ...(this.#deps.fleetLookMs === undefined ? {} : { lookMs: this.#deps.fleetLookMs }),
    });
    const updates = new DockUpdates({ layout, transport, clock, logger: this.#log.child({ component: 'updates' }) });
    this.#started.add('updates', () => updates.idle());
    const agent = new DockAgent({
      transport,
      progress,
      store,
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
      onUpdatePull: (device, payload) => updates.pull(device, payload),
      onInventory: (device) => updates.stillDocked(device),
      onHello: (device, hello) => {
        updates.hello(device, hello);
        fleet.noteHello(device, {
          release: releaseLine(hello),
          ...(hello.battery === undefined ? {} : { battery: hello.battery }),
          ...(hello.storageMinutesLeft === undefined ? {} : { storageMinutesLeft: hello.storageMinutesLeft }),
          ...(hello.clockOffsetMs === undefined ? {} : { clockOffsetMs: hello.clockOffsetMs }),
          ...(hello.faults === undefined ? {} : { faults: hello.faults }),
        });
      },
    });
    await this.#started.start('agent', agent);
    await this.#started.start('fleet status', fleet);
    if (config.page.enabled) {
      const page = new DockPageServer({
        host: config.page.listen,
        port: config.page.port,
        names: [config.host],
        log: this.#log.child({ component: 'page' }),
        model: () =>
          dockPageModel({
            dock: config.host,
            storeKind: config.store.kind,
            progress,
            enrolled: () => enrolledDeviceIds(this.#dir),
            withdrawals: () => readWithdrawals(layout),
            hello: (device) => fleet.hello(device),
            wallNow: () => clock.wallNow(),
            pendingUpdates: async () =>
              (await pendingUpdates(layout, enrolledDeviceIds(this.#dir))).map((u) => ({
                device: u.device,
                release: `${u.kind} ${u.wanted}${u.running === null ? '' : ` (runs ${u.running})`}`,
                state: u.state,
                ...(u.reason === undefined ? {} : { reason: u.reason }),
              })),
          }),
      });
      // The page is for the operator's eyes; footage must keep coming in when it cannot listen.
      try {
        this.#pageUrl = await page.start();
        this.#started.add('page', () => page.stop());
        this.#log.info({ url: this.#pageUrl }, "the dock's page is served");
      } catch (e) {
        this.#log.error({ message: (e as Error).message }, "the dock's page is not served; the dock runs without it");
      }
    }
    this.#log.info({ dir: layout.dir, port: config.port, broker: config.broker, store: evidence.where }, 'dock ready');
  }

  async stop(): Promise<void> {
    await this.#started.stop();
  }
}

/**
 * The agent's MQTT connection to the dock's broker, with its certificate. Its client id is the certificate's CN,
 * which the broker gives it anyway (use_username_as_clientid), so no camera can take it over and disconnect the agent.
 */
export function dockTransport(config: DockConfig, layout: DockLayout): MqttTransport {
  return new MqttTransport({
    host: config.bind === '0.0.0.0' ? 'localhost' : config.bind,
    servername: config.host,
    port: config.port,
    clientId: DOCK_AGENT_CN,
    tls: { ca: layout.pki.caCert, cert: layout.pki.agentCert, key: layout.pki.agentKey },
    reconnectMs: 1000,
  });
}

/**
 * The fleet status's release field: the release the camera runs and, when its last release update failed, which
 * and why (`1.4.0 (1.5.0 rolled-back: not healthy within 120 s: …)`), so the centre sees it among what needs
 * attention.
 */
export function releaseLine(hello: Hello): string {
  const r = hello.updates?.find((u) => u.kind === 'release');
  if (r === undefined || (r.state !== 'rolled-back' && r.state !== 'refused')) return hello.release;
  return `${hello.release} (${r.version} ${r.state}: ${r.reason ?? 'no reason given'})`.slice(0, 200);
}
