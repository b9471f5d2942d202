/**
 * Coalesces concurrent reads by id into one `WHERE id IN (…)` query (the DataLoader
 * technique). The first read goes out at once; reads that arrive while queries are in
 * flight wait for the next one, which answers all of them. Under load this turns many
 * queries into a few, which matters most on SQLite, where every query waits its turn for
 * the one connection; a lone read costs nothing extra.
 *
 * Batch sizes are rounded up to powers of two (padded with an id that never exists), so a
 * type has at most a handful of distinct query texts to prepare.
 */

/** Runs one batched query for these ids and returns the rows found (each with its `id`). */
export type BatchQuery<R> = (ids: number[]) => Promise<R[]>;

/** The largest batch; more waiting reads are split over several queries. */
export const MAX_BATCH = 64;

interface Waiting<R> {
  id: number;
  resolve(row: R | undefined): void;
  reject(err: unknown): void;
}

/** A row as a batch query returns it: with its id. */
export interface RowWithId {
  /** The row's id (a number on SQLite, a string for PostgreSQL's bigint). */
  id: unknown;
}

/** Batches reads by id for one query shape. */
export class IdBatcher<R extends RowWithId> {
  private queue: Waiting<R>[] = [];
  private inFlight = 0;

  /**
   * @param query - answers a batch (its ids array has a power-of-two length)
   * @param concurrency - how many batches may be in flight at once
   */
  constructor(
    private readonly query: BatchQuery<R>,
    private readonly concurrency = 1,
  ) {}

  /** The row with that id, or undefined. */
  load(id: number): Promise<R | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id, resolve, reject });
      if (this.inFlight < this.concurrency) this.flush();
    });
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    const ids = [...new Set(batch.map((w) => w.id))];
    let size = 1;
    while (size < ids.length) size *= 2;
    while (ids.length < size) ids.push(-1);
    this.inFlight++;
    this.query(ids).then(
      (rows) => {
        const byId = new Map(rows.map((r) => [Number(r.id), r]));
        for (const w of batch) w.resolve(byId.get(w.id));
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    ).finally(() => {
      this.inFlight--;
      this.flush();
    });
  }
}
