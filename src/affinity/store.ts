/**
 * Which endpoint created each stored id: an LRU map with a time to live. Only the id and a small
 * number are kept (no bodies): the endpoint's index and the entry's expiry, packed into one
 * number so that an entry costs one map slot.
 */
export class HomeStore {
  readonly #entries = new Map<string, number>();
  /** Seconds are counted from here, so that packed values stay small integers. */
  readonly #baseSec = Math.floor(Date.now() / 1000);

  constructor(
    readonly maxIds: number,
    readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The index of the endpoint that created `id`, while the entry lives. */
  get(id: string): number | undefined {
    const packed = this.#entries.get(id);
    if (packed === undefined) return undefined;
    if (Math.floor(packed / SLOTS) + this.#baseSec <= Date.now() / 1000) {
      this.#entries.delete(id);
      return undefined;
    }
    // Most recently used moves to the end: eviction takes the oldest first.
    this.#entries.delete(id);
    this.#entries.set(id, packed);
    return packed % SLOTS;
  }

  /** Remembers (or refreshes) `id` as created by the endpoint at `index`. */
  set(id: string, index: number): void {
    const expirySec = Math.ceil((Date.now() + this.ttlMs) / 1000) - this.#baseSec;
    this.#entries.delete(id);
    this.#entries.set(id, expirySec * SLOTS + index);
    if (this.#entries.size > this.maxIds) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

/** Endpoints an entry can name; the option check keeps the endpoint count under it. */
export const SLOTS = 256;
