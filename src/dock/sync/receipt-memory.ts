/**
 * When a stored segment offered again gets its receipt again. A camera lists every segment it holds without a
 * receipt, and inventories and receipts cross on the way (no order is shared between the two directions), so one
 * inventory listing a segment the dock receipted in this session proves nothing: the camera may simply not have had
 * the receipt yet, even when the inventory came after the receipt went out. So the dock answers the second inventory
 * taken up after its receipt that still lists the segment (built at least one inventory interval later: the receipt
 * had time to arrive), and at once for a segment receipted in an earlier session (the camera docked again without
 * it). A receipt lost for good is so sent again one inventory later, never skipped; a crossing
 * never draws a second one.
 */
export class ReceiptMemory {
  /** This session's order of events: inventories coming in and receipts going out. */
  #events = 0;
  /** Segment (offer key) → when its receipt went out in this session. */
  readonly #sent = new Map<string, number>();
  /** Segment → inventories taken up since its receipt that still listed it. */
  readonly #listedAfter = new Map<string, number>();

  /** An inventory came: its place in the order of events. */
  came(): number {
    this.#events += 1;
    return this.#events;
  }

  /** A receipt for `key` went out. */
  sent(key: string): void {
    this.#events += 1;
    this.#sent.set(key, this.#events);
    this.#listedAfter.delete(key);
  }

  /** Is `key`, stored and listed by the inventory that came at `came`, owed its receipt again? */
  again(key: string, came: number): boolean {
    const at = this.#sent.get(key);
    if (at === undefined) return true;
    if (at > came) return false;
    const listed = (this.#listedAfter.get(key) ?? 0) + 1;
    this.#listedAfter.set(key, listed);
    return listed >= 2;
  }
}
