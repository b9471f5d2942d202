/**
 * Background work that must finish before the database closes: the periodic refresh, metric
 * samples, chat frames being handled. The plugin's stop hook closes the tracker, which
 * refuses new work and waits for what is running (the kernel bounds the wait).
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  /**
   * @param onError - where failures of a task go (they never escape)
   */
  constructor(private readonly onError: (err: unknown) => void) {}

  /** Runs `fn` unless closed; failures go to `onError`. */
  run(fn: () => Promise<void> | void): void {
    if (this.closed) return;
    const p: Promise<void> = Promise.resolve()
      .then(fn)
      .catch((err: unknown) => {
        if (!this.closed) this.onError(err);
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** True once {@link BackgroundTasks.close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Refuses new work and waits for the running work. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.running]);
  }
}
