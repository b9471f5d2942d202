/**
 * Batched lookups: concurrent reads by key coalesced into one query.
 *
 * A caller asks for a key. When no query is in flight, one starts at once for that key alone
 * (no added latency, no timer). Keys asked for while a query is in flight wait for it to end
 * and are then read together by the next query. A caller is therefore always answered by a
 * query that started after it asked: a change committed before the call is always seen (a
 * revoked credential is refused at once), exactly as with a query of its own.
 *
 * On SQLite, whose pool has one connection, every query is a round trip that other work waits
 * behind; on PostgreSQL it saves connections. Either way one query replaces many.
 */

/** How a {@link BatchedLookup} reads its keys. */
export interface BatchedLookupOptions<K, V> {
  /** Reads the values of `keys` (distinct) in one query; a key without a value is left out of the map. */
  load(keys: readonly K[]): Promise<ReadonlyMap<K, V>>;
  /** Most keys per query (default 500, within SQL's bound-parameter limits). */
  maxBatch?: number;
}

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(err: unknown): void;
}

/** Most keys per query unless told otherwise. */
const DEFAULT_MAX_BATCH = 500;

/** Coalesces concurrent reads by key into one query at a time, each caller answered by a query that started after it asked. */
export class BatchedLookup<K, V> {
  private queue = new Map<K, Array<Waiter<V>>>();
  private readonly maxBatch: number;
  private running = false;

  /** @param options - how keys are read, and the batch bound */
  constructor(private readonly options: BatchedLookupOptions<K, V>) {
    const max = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBatch must be a positive integer (got ${max})`);
    this.maxBatch = max;
  }

  /** The value of `key`, or undefined when there is none, read by a query that starts after this call. */
  get(key: K): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      const waiters = this.queue.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.queue.set(key, [{ resolve, reject }]);
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.size > 0) {
        const batch = new Map<K, Array<Waiter<V>>>();
        for (const [key, waiters] of this.queue) {
          if (batch.size === this.maxBatch) break;
          batch.set(key, waiters);
        }
        for (const key of batch.keys()) this.queue.delete(key);
        await this.read(batch);
      }
    } finally {
      this.running = false;
    }
  }

  /** Reads one batch; never throws (every waiter is settled). */
  private async read(batch: ReadonlyMap<K, ReadonlyArray<Waiter<V>>>): Promise<void> {
    let values: ReadonlyMap<K, V>;
    try {
      values = await this.options.load([...batch.keys()]);
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      return;
    }
    for (const [key, waiters] of batch) {
      const value = values.get(key);
      for (const w of waiters) w.resolve(value);
    }
  }
}
