import { sha256Hex } from '../../evidence/canonical.ts';
import { releaseNow } from '../../lib/memory.ts';
import { CHUNK_BYTES, WINDOW_CHUNKS } from '../../protocol/limits.ts';
import type { Pull } from '../../protocol/messages.ts';
import { upTopic } from '../../protocol/topics.ts';
import type { SyncTransport } from '../../protocol/transport/port.ts';
import type { Offload } from './offload.ts';

/** Footage handed to the transport between two garbage collections: one pull window (8 MiB). */
export const COLLECT_EVERY_BYTES = WINDOW_CHUNKS * CHUNK_BYTES;

export interface ChunkSenderOptions {
  transport: SyncTransport;
  device: string;
  offload: Offload;
  /** A full garbage collection (src/lib/memory.ts `collectGarbage`), asked for after every COLLECT_EVERY_BYTES. */
  collectGarbage?: () => void;
}

/**
 * Sends the chunks a pull asks for, each with its hash as soon as it is read, so the first is on its way while the
 * next is read. Sending makes garbage outside V8's heap, which V8 collects only past ~64 MB of it (docs/design.md
 * §14): each chunk's memory goes back once the broker has it, and a full collection is asked for after every window.
 */
export class ChunkSender {
  readonly #o: ChunkSenderOptions;
  /** Footage handed to the transport since the last collection asked for. */
  #sinceCollection = 0;

  constructor(options: ChunkSenderOptions) {
    this.#o = options;
  }

  async send(pull: Pull): Promise<void> {
    for await (const chunk of this.#o.offload.chunks(pull.incident, pull.seq, pull.offset, pull.count)) {
      const bytes = chunk.bytes;
      this.#o.transport.publish(upTopic(this.#o.device, 'chunk'), bytes, {
        headers: {
          session: pull.session,
          incident: pull.incident,
          seq: String(pull.seq),
          offset: String(chunk.offset),
          sha256: sha256Hex(bytes),
        },
        acknowledged: () => releaseNow(bytes),
      });
      this.#sinceCollection += bytes.length;
      if (this.#sinceCollection >= COLLECT_EVERY_BYTES) {
        this.#sinceCollection = 0;
        this.#o.collectGarbage?.();
      }
    }
  }
}
