/**
 * Which camera messages the agent takes at all, before any parsing: never a retained one (the broker would replay
 * it to every later subscriber; it is cleared), only an enrolled camera's (its record read now), and only while
 * that camera's messages taken and not yet handled stay within its budget of bytes in flight. What is turned away
 * is logged a few times a minute per camera and kind, not once per message.
 */
import type { Clock } from '../../hal/clock/port.ts';
import type { Logger } from '../../lib/logger.ts';
import { parseTopic } from '../../protocol/topics.ts';
import type { InboundMessage, SyncTransport } from '../../protocol/transport/port.ts';
import type { EnrolledKey } from '../enrolled.ts';
import { type DockLimits, MiB } from '../limits.ts';
import { Throttle } from './throttle.ts';

export interface GateOptions {
  transport: SyncTransport;
  deviceKey: (device: string) => EnrolledKey | null;
  limits: DockLimits;
  clock: Clock;
  logger: Logger;
}

export type Admission =
  | { device: string; type: string; key: EnrolledKey }
  /** Not (or no longer) enrolled: ignored, and its session is to end. */
  | { withdrawn: string }
  | null;

export class Gate {
  readonly #o: GateOptions;
  readonly #throttle: Throttle;
  /** Bytes of each camera's messages taken and not yet handled. */
  readonly #held = new Map<string, number>();
  /** The broker keeps retained messages (its CONNACK said so): then we clear any it hands us. */
  retainAvailable = false;

  constructor(options: GateOptions) {
    this.#o = options;
    this.#throttle = new Throttle(options.clock);
  }

  admit(m: InboundMessage): Admission {
    const { topic, payload } = m;
    if (m.retained) {
      if (payload.length === 0) return null;
      this.warn(topic, 'a retained message was ignored and cleared', { topic });
      if (this.retainAvailable) this.#o.transport.publish(topic, Buffer.alloc(0), { retain: true });
      return null;
    }
    const t = parseTopic(topic);
    if (t === null || t.dir !== 'up') return null;
    const key = this.#o.deviceKey(t.device);
    if (key === null) {
      this.warn(t.device, 'a camera that is not enrolled here: ignored', { topic });
      return { withdrawn: t.device };
    }
    if ((this.#held.get(t.device) ?? 0) + payload.length > this.#o.limits.maxInFlightMiB * MiB) {
      this.warn(t.device, 'over its budget of bytes in flight: a message was dropped', {
        topic,
        bytes: payload.length,
      });
      return null;
    }
    return { device: t.device, type: t.type, key };
  }

  /** `bytes` of the camera's messages are held (taken, not yet handled) until `release`. */
  hold(device: string, bytes: number): void {
    this.#held.set(device, (this.#held.get(device) ?? 0) + bytes);
  }

  release(device: string, bytes: number): void {
    this.#held.set(device, (this.#held.get(device) ?? bytes) - bytes);
  }

  /** A log line of this kind for this camera, at most a few a minute. */
  warn(device: string, msg: string, fields: Record<string, unknown>): void {
    const pass = this.#throttle.pass(`${device}\n${msg}`);
    if (pass !== null) this.#o.logger.warn({ device, ...fields, ...(pass.held > 0 ? { held: pass.held } : {}) }, msg);
  }
}
