/**
 * When a stored segment offered again gets its receipt again. A camera lists every segment it holds without a
 * receipt, and inventories and receipts cross on the way (no order is shared between the two directions), so an
 * inventory listing a segment the dock receipted in this session proves nothing by itself: the camera may not have
 * taken the receipt up yet, even when the inventory came after the receipt went out, and a camera offloading many
 * segments sends an inventory after each receipt, so counting inventories says nothing of time (two came within
 * 2 s while the camera was still storing the receipt). So the dock answers an inventory that came after its receipt
 * only once RESEND_AFTER_MS have passed since the receipt went out (the camera's idle re-offer interval: a camera
 * that has not stored a receipt by then has lost it), and at once for a segment receipted in an earlier session (the
 * camera docked again without it). A receipt lost for good is so sent again at the camera's next re-offer, never
 * skipped; a crossing never draws a second one.
 */
export const RESEND_AFTER_MS = 15_000;

export class ReceiptMemory {
  readonly #now: () => number;
  readonly #resendAfterMs: number;
  /** This session's order of events: inventories coming in and receipts going out. */
  #events = 0;
  /** Segment (offer key) → when its receipt went out in this session: its place in the order, and the clock. */
  readonly #sent = new Map<string, { event: number; at: number }>();

  /** `now`: the dock's monotonic clock (ms). */
  constructor(now: () => number, resendAfterMs = RESEND_AFTER_MS) {
    this.#now = now;
    this.#resendAfterMs = resendAfterMs;
  }

  /** An inventory came: its place in the order of events. */
  came(): number {
    this.#events += 1;
    return this.#events;
  }

  /** A receipt for `key` went out. */
  sent(key: string): void {
    this.#events += 1;
    this.#sent.set(key, { event: this.#events, at: this.#now() });
  }

  /** Is `key`, stored and listed by the inventory that came at `came`, owed its receipt again? */
  again(key: string, came: number): boolean {
    const sent = this.#sent.get(key);
    if (sent === undefined) return true;
    if (sent.event > came) return false;
    return this.#now() - sent.at >= this.#resendAfterMs;
  }
}
