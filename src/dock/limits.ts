/**
 * The `limits` section of dock.json: the budgets that keep one camera from stopping the dock or filling its disk.
 * Every key has a default, so a dock.json without the section gets them all; docs/dock-operations.md says what each
 * one protects and how an operator sees a camera being refused.
 */
import { type Infer, s } from '../config/schema-kit.ts';
import { CHUNK_BYTES, MAX_OFFERS_PER_INVENTORY, MAX_PACKET_BYTES, WINDOW_CHUNKS } from '../protocol/limits.ts';

export const MiB = 1024 * 1024;

/** A camera's honest traffic at its peak: two segments' pull windows, asked again once each, and a JSON message. */
const HONEST_IN_FLIGHT_MIB = Math.ceil((2 * 1.5 * WINDOW_CHUNKS * CHUNK_BYTES + MAX_PACKET_BYTES) / MiB);

export const limitsSchema = s
  .object({
    maxOffersPerInventory: s.int(
      1,
      MAX_OFFERS_PER_INVENTORY,
      MAX_OFFERS_PER_INVENTORY,
      'segments of one inventory the dock looks at; the rest are refused in one reply and offered again later',
    ),
    maxInFlightMiB: s.int(
      HONEST_IN_FLIGHT_MIB,
      4096,
      64,
      "MiB of one camera's messages the dock holds before handling them; what comes over it is dropped (asked again)",
    ),
    maxSegmentMiB: s.int(1, 65_536, 4096, 'the largest segment a camera may offer, MiB'),
    cameraQuotaMiB: s.int(
      1,
      2 ** 30,
      262_144,
      'MiB one camera may have at this dock (stored footage plus transfers under way); offers over it are refused',
    ),
    minFreeMiB: s.int(
      0,
      2 ** 30,
      4096,
      'MiB the dock keeps free on its disk; an offer that would leave less (with every transfer under way) is refused',
    ),
    partialMaxAgeHours: s.int(
      1,
      24 * 365,
      72,
      'an unfinished transfer untouched this long is deleted (the camera sends it again from the start)',
    ),
  })
  .default({})
  .describe("per-camera budgets and the dock's free-space floor");

export type DockLimits = Infer<typeof limitsSchema>;
