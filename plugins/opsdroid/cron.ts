/**
 * Crontab schedules for skills. The cron expression is parsed and its next run computed by
 * `croner` (a maintained cron library, with time zones and the usual 5-field syntax that
 * opsdroid's `match_crontab` takes); the waiting is done by the runtime's {@link Clock}, so
 * a test can advance a manual clock and see the job fire.
 */
import { Cron } from 'croner';
import type { Clock } from './clock.js';

/** Checks a cron expression and time zone; throws an Error naming the problem. */
export function checkCrontab(crontab: string, timezone?: string): void {
  try {
    // croner only notices an unknown time zone when it computes a run; Intl knows them all.
    if (timezone !== undefined) new Intl.DateTimeFormat('en', { timeZone: timezone });
    new Cron(crontab, { paused: true, timezone });
  } catch (err) {
    throw new Error(`invalid crontab '${crontab}'${timezone ? ` (timezone ${timezone})` : ''}: ${(err as Error).message}`);
  }
}

/** One scheduled crontab: fires `run` at every time the expression matches, until stopped. */
export class CronSchedule {
  private readonly cron: Cron;
  private cancel?: () => void;
  private stopped = true;

  /**
   * @param crontab - the cron expression (5 fields, or 6 with seconds)
   * @param timezone - the IANA time zone the expression is read in
   * @param clock - where time comes from
   * @param run - what to do at each match; receives the scheduled time
   */
  constructor(
    readonly crontab: string,
    readonly timezone: string,
    private readonly clock: Clock,
    private readonly run: (at: Date) => Promise<void>,
  ) {
    this.cron = new Cron(crontab, { paused: true, timezone });
  }

  /** The next time it will fire after `from` (default now), or null when it never will. */
  nextRun(from: Date = this.clock.now()): Date | null {
    return this.cron.nextRun(from);
  }

  /** Starts firing. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(this.clock.now());
  }

  /** Stops firing (a run in progress finishes). */
  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  private arm(from: Date): void {
    const next = this.cron.nextRun(from);
    if (!next || this.stopped) return;
    this.cancel = this.clock.schedule(next, () => this.fire(next));
  }

  private async fire(at: Date): Promise<void> {
    if (this.stopped) return;
    // The next run counts from now when we woke up late, so missed runs are not replayed.
    const now = this.clock.now();
    this.arm(now.getTime() > at.getTime() ? now : at);
    await this.run(at);
  }
}
