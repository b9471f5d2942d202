/**
 * Group commit: the writes of concurrent callers batched into one transaction.
 *
 * A caller submits an item and is answered once the transaction holding its write has
 * committed. While one transaction is being written and committed, items that arrive wait
 * in a queue; the next transaction writes all of them (up to a bound) at once. When nothing
 * is in flight, a submitted item starts its transaction at once: batching adds no latency to
 * a lone caller, and there is no timer.
 *
 * Transactions run one at a time, in submission order, so the commit order is the order of
 * submission, and the `committed` hook sees the items in that order.
 *
 * When a batch's transaction fails, nothing of it was written: its items are then written
 * again one per transaction, in order, so one item's bad write fails only its own caller and
 * every caller gets exactly its own result or error.
 *
 * Everything written must go through the transaction handle `write` receives (on SQLite the
 * pool has one connection: a query on the pool inside `write` would wait for it forever).
 */
import type { Knex } from 'knex';

/** How a {@link GroupCommit} writes and announces its items. */
export interface GroupCommitOptions<I, R> {
  /**
   * Writes a batch of items in `trx` and returns one result per item, in the items' order.
   * Throwing (or rejecting) rolls the whole batch back.
   */
  write(items: readonly I[], trx: Knex.Transaction): Promise<R[]>;
  /**
   * Called for each item once its transaction has committed, in commit order, before its
   * caller is answered (e.g. to publish the stored change). If it throws, that caller gets the
   * error (its write stays committed); the other callers are not affected.
   */
  committed?(result: R, item: I): void;
  /** Most items written in one transaction (default 64). */
  maxBatch?: number;
}

interface Member<I, R> {
  item: I;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/** Most items per transaction unless told otherwise. */
const DEFAULT_MAX_BATCH = 64;

/**
 * Batches concurrent callers' writes into shared transactions (group commit). Each caller
 * gets its own result after its write committed, or its own error.
 */
export class GroupCommit<I, R> {
  private readonly queue: Array<Member<I, R>> = [];
  private readonly maxBatch: number;
  private running = false;

  /**
   * @param db - the Knex handle transactions are opened on
   * @param options - how items are written and announced, and the batch bound
   */
  constructor(
    private readonly db: Knex,
    private readonly options: GroupCommitOptions<I, R>,
  ) {
    const max = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxBatch must be a positive integer (got ${max})`);
    this.maxBatch = max;
  }

  /** Items waiting for a transaction (not counting the one being written). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Writes `item` in the next transaction; resolves with its result once that committed. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, this.maxBatch));
    } finally {
      this.running = false;
    }
  }

  /** Writes `batch` in one transaction; never throws (every member is settled). */
  private async commit(batch: ReadonlyArray<Member<I, R>>): Promise<void> {
    let results: R[];
    try {
      results = await this.db.transaction(async (trx) => {
        const written = await this.options.write(
          batch.map((m) => m.item),
          trx,
        );
        if (!Array.isArray(written) || written.length !== batch.length) {
          throw new Error(`group commit: write returned ${Array.isArray(written) ? written.length : 'no'} results for ${batch.length} items`);
        }
        return written;
      });
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      // Some member's write failed the batch and nothing of it was written: each member
      // again on its own, in order, so only the bad one fails.
      for (const member of batch) await this.commit([member]);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      try {
        this.options.committed?.(results[i], batch[i].item);
        batch[i].resolve(results[i]);
      } catch (err) {
        batch[i].reject(err);
      }
    }
  }
}
