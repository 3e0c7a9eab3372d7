/**
 * Every size and count of the sync protocol, in one place: the chunk size and pull window, the largest JSON message,
 * the audit batch, the docking record, and what follows from them (the broker's `max_packet_size` and
 * `message_size_limit`, both clients' maximum packet size, what one inventory may offer). Camera, dock, broker
 * configuration and checks all read them from here. A peer sending more is cut off by the broker before it has read
 * the packet.
 */

/** Bytes per chunk: 256 KiB moves at memory speed through Mosquitto and keeps a window small. */
export const CHUNK_BYTES = 256 * 1024;
/** Chunks the dock keeps asked for ahead of what it has (8 MiB in flight); it asks again at half. */
export const WINDOW_CHUNKS = 32;
/** The most chunks one pull may ask for (a pull asking for more is refused by the camera). */
export const MAX_PULL_CHUNKS = 64;
/** A segment's number in its incident, at most. */
export const MAX_SEQ = 99_999;
/** A segment's size, at most, as the protocol carries it (a dock sets its own, lower, `limits.maxSegmentMiB`). */
export const MAX_SEGMENT_BYTES = 64 * 1024 ** 3;
/** The dock makes what it received durable (fdatasync, then its progress row) at least this often. */
export const CHECKPOINT_BYTES = 16 * 1024 * 1024;
/** No message of ours comes near this; larger ones are refused before parsing. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;

/**
 * Audit lines the camera sends in one batch. The dock pulls again after a batch of exactly this many (there may be
 * more); a shorter one is the end of the log.
 */
export const AUDIT_BATCH_LINES = 5000;
/** Audit lines one message may hold for the dock to look at it. */
export const MAX_AUDIT_LINES = 100_000;
/** Characters of one audit line, at most (an entry is a few hundred). */
export const MAX_AUDIT_LINE_CHARS = 64 * 1024;

/** A docking record larger than this is not one (a record is a few hundred bytes): the camera drops it unread. */
export const MAX_DOCKING_RECORD_BYTES = 64 * 1024;

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

/** One piece of an update bundle (`update-part`): the dock sends at most MAX_PULL_CHUNKS of them per pull. */
export const UPDATE_PIECE_BYTES = CHUNK_BYTES;
