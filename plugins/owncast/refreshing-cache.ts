/**
 * A value read from somewhere slow (the database, a directory) and kept for a while, read
 * once however many requests want it at the same moment.
 *
 * A value is fresh for `maxAgeMs` after its read began. Past that it is read again, by one
 * read that every caller meanwhile shares; callers are answered the value they had, unless
 * it has grown older than twice `maxAgeMs` (then they wait for the new one). Without that,
 * each expiry sent every request in flight at that moment to the database with the same
 * query, each waiting for its own answer.
 *
 * {@link RefreshingCache.invalidate} is for a change made here: the value is dropped, the
 * next caller waits for a new read, and a read that began before the change is neither
 * shared after it nor kept.
 */
export class RefreshingCache<T> {
  private value?: { data: T; readAt: number };
  private reading?: Promise<T>;
  /** Raised by each invalidation: a read begun under an older one is not kept. */
  private generation = 0;

  /**
   * @param read - reads the value
   * @param maxAgeMs - how long a value is fresh, from when its read began (asked at each use: it may be configured)
   * @param onBackgroundError - told when a read that no caller waits for fails (the value it had is kept)
   */
  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: () => number,
    private readonly onBackgroundError: (err: unknown) => void,
  ) {}

  /** The value: the kept one while fresh, else after one shared read (see the module's description). */
  get(): Promise<T> {
    const kept = this.value;
    if (kept) {
      const age = Date.now() - kept.readAt;
      const maxAge = this.maxAgeMs();
      if (age < maxAge) return Promise.resolve(kept.data);
      if (age < 2 * maxAge) {
        this.refresh().catch(this.onBackgroundError);
        return Promise.resolve(kept.data);
      }
    }
    return this.refresh();
  }

  /** Forgets the value after a change: the next caller waits for a read that begins after it. */
  invalidate(): void {
    this.generation++;
    this.value = undefined;
    this.reading = undefined;
  }

  /** The read in progress, or a new one. */
  private refresh(): Promise<T> {
    if (this.reading) return this.reading;
    const generation = this.generation;
    const readAt = Date.now();
    const reading = this.read().then(
      (data) => {
        if (generation === this.generation) {
          this.value = { data, readAt };
          this.reading = undefined;
        }
        return data;
      },
      (err: unknown) => {
        if (generation === this.generation) this.reading = undefined;
        throw err;
      },
    );
    this.reading = reading;
    return reading;
  }
}
