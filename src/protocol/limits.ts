/**
 * The sync protocol's size limits, derived once from its chunk size and its largest JSON message: the broker's
 * `max_packet_size` and `message_size_limit`, both MQTT clients' `maximumPacketSize`, and what one inventory may
 * offer. A peer sending more is cut off by the broker before it has read the packet.
 */
import { CHUNK_BYTES, MAX_JSON_BYTES } from './messages.ts';

/** The largest payload of any message of ours: a chunk, or a JSON message. */
export const MAX_PAYLOAD_BYTES = Math.max(CHUNK_BYTES, MAX_JSON_BYTES);

/**
 * Room for a packet's fixed header, topic and MQTT 5 properties: ours are a topic under 100 bytes and a chunk's
 * five user properties under 400.
 */
export const PACKET_HEADROOM_BYTES = 16 * 1024;

/** The largest MQTT packet either side sends or accepts. */
export const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + PACKET_HEADROOM_BYTES;

/**
 * The most segments one inventory offers: a camera with more offers its oldest this many and the rest once those
 * are done; the dock considers at most this many (fewer if its operator says so) and refuses the rest in one reply.
 */
export const MAX_OFFERS_PER_INVENTORY = 1000;
