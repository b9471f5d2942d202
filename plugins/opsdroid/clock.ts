/**
 * Time for the runtime: what "now" is and when scheduled work runs. Cron skills and the
 * websocket connector's `connection-timeout` read time only through a {@link Clock}, so a
 * host (or a test) can replace the system clock with a {@link ManualClock} and advance it.
 */

/** A source of the current time that can also run a function at a given time. */
export interface Clock {
  /** The current time. */
  now(): Date;
  /**
   * Runs `fn` at `at` (or as soon as possible after it). Returns a function that cancels
   * the call if it has not run yet.
   */
  schedule(at: Date, fn: () => unknown): () => void;
}

/** The longest delay `setTimeout` accepts. */
const MAX_TIMER_DELAY = 2_147_483_647;

/** The real clock: `Date` and unref'd timers (they never keep the process alive). */
export class SystemClock implements Clock {
  /** The current time. */
  now(): Date {
    return new Date();
  }

  /** Runs `fn` at `at` with `setTimeout`, re-arming for delays longer than a timer allows. */
  schedule(at: Date, fn: () => unknown): () => void {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const delay = at.getTime() - Date.now();
      if (delay > MAX_TIMER_DELAY) {
        timer = setTimeout(arm, MAX_TIMER_DELAY);
      } else {
        timer = setTimeout(() => {
          if (!cancelled) fn();
        }, Math.max(0, delay));
      }
      timer.unref();
    };
    arm();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => unknown;
}

/**
 * A clock that only moves when told to: {@link ManualClock.advance} runs every scheduled
 * function that falls due, in time order, with `now()` set to its due time, and waits for
 * each one (and the promise it returns) before the next.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: ManualTimer[] = [];
  private seq = 0;

  /** @param start - the initial time (default 2025-01-01T00:00:00Z) */
  constructor(start: Date | string | number = '2025-01-01T00:00:00Z') {
    this.current = new Date(start).getTime();
    if (Number.isNaN(this.current)) throw new TypeError(`ManualClock: invalid start time '${String(start)}'`);
  }

  /** The current (manual) time. */
  now(): Date {
    return new Date(this.current);
  }

  /** Schedules `fn`; it runs when the clock is advanced to or past `at`. */
  schedule(at: Date, fn: () => unknown): () => void {
    const timer: ManualTimer = { at: at.getTime(), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** How many scheduled functions have not run yet. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves the clock forward by `ms`, running what falls due. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.current + ms);
  }

  /** Moves the clock to `time` (never backwards), running what falls due on the way. */
  async advanceTo(time: Date | string | number): Promise<void> {
    const target = new Date(time).getTime();
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      await next.fn();
    }
    this.current = Math.max(this.current, target);
  }
}
