/**
 * A hostile client on a camera's topics: it holds an enrolled camera's certificate (and, for a compromised camera,
 * its storage and signing key) and speaks the sync protocol by hand, sending what it likes. Everything the dock
 * sends it is kept in order.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { CameraStore } from '../../src/camera/storage/store.ts';
import { Offload } from '../../src/camera/sync/offload.ts';
import { loadConfig } from '../../src/config/load.ts';
import { loadPublicKey } from '../../src/evidence/keys.ts';
import { type Inventory, PROTOCOL } from '../../src/protocol/messages.ts';
import { downFilter, upTopic } from '../../src/protocol/topics.ts';
import { cameraTls, connectMqtt, until } from './broker.ts';
import type { Camera } from './daemon.ts';

export interface DownMessage {
  type: string;
  body: Record<string, any>;
}

export class HostileCamera {
  readonly client: MqttClient;
  readonly device: string;
  readonly session = randomUUID();
  readonly received: DownMessage[] = [];

  private constructor(client: MqttClient, device: string) {
    this.client = client;
    this.device = device;
    client.on('message', (topic, payload) => {
      const type = topic.split('/').at(-1) ?? '';
      let body: Record<string, any> = {};
      try {
        body = JSON.parse(payload.toString()) as Record<string, any>;
      } catch {
        body = { raw: payload.toString() };
      }
      this.received.push({ type, body });
    });
  }

  /** Connects with the camera's certificate and listens on its down topics. */
  static async connect(port: number, camera: Camera, device: string): Promise<HostileCamera> {
    const client = await connectMqtt(port, cameraTls(camera.configFile));
    await client.subscribeAsync(downFilter(device), { qos: 1 });
    return new HostileCamera(client, device);
  }

  publish(type: 'hello' | 'inventory' | 'chunk' | 'audit', body: Buffer | string, props?: Record<string, string>) {
    return this.client.publishAsync(upTopic(this.device, type), body, {
      qos: 1,
      ...(props === undefined ? {} : { properties: { userProperties: props } }),
    });
  }

  hello(keyId: string) {
    return this.publish(
      'hello',
      JSON.stringify({
        protocol: PROTOCOL,
        session: this.session,
        device: this.device,
        keyId,
        release: 'x',
        sentMono: 0,
      }),
    );
  }

  /**
   * Says hello until the dock answers (its `time`), as a camera does when the dock announces itself: a hello sent
   * before the agent has subscribed reaches no one.
   */
  async greet(keyId: string): Promise<DownMessage> {
    const before = this.of('time').length;
    for (let attempt = 0; attempt < 30; attempt++) {
      await this.hello(keyId);
      const answered = await until(() => this.of('time').length > before, 'the dock to answer', 1000).then(
        () => true,
        () => false,
      );
      if (answered) return this.of('time')[before] as DownMessage;
    }
    throw new Error('the dock never answered hello');
  }

  /** The `n`-th message (0-based) of `type` the dock sent, once it is there. */
  async nth(type: string, n = 0, timeoutMs = 30_000): Promise<DownMessage> {
    await until(() => this.of(type).length > n, `message ${n} of type ${type} from the dock`, timeoutMs);
    return this.of(type)[n] as DownMessage;
  }

  of(type: string): DownMessage[] {
    return this.received.filter((m) => m.type === type);
  }

  end() {
    return this.client.endAsync(true);
  }
}

/** What the compromised camera `camera` (storage and signing key in hand) would offer, read by the real offload. */
export async function inventoryOf(camera: Camera, session: string): Promise<Inventory> {
  const config = loadConfig(camera.configFile);
  const store = CameraStore.open(config.storage.dir);
  try {
    const dockKey = loadPublicKey(readFileSync(config.dock?.dockKey ?? '', 'utf8'));
    const offload = new Offload({ store, storageDir: config.storage.dir, device: config.device.id, dockKey });
    return await offload.inventory(session);
  } finally {
    store.close();
  }
}
