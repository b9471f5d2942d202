/**
 * Failure counters for throttling (the original's brute-force protection of the bot
 * endpoints), kept in the database so that every instance sharing it sees the same counts.
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';

/** Counts failures per key in fixed windows. */
@injectable()
export class ThrottleStore {
  /** The table name. */
  readonly table: string;

  /** @param ctx - the plugin context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('throttle');
  }

  /** The failures counted for `key` in the window that is current at `now` (ms). */
  async failures(key: string, windowMs: number, now: number): Promise<number> {
    const row = (await this.ctx.db(this.table).where({ throttle_key: key }).first()) as { window_start: number | string; failures: number } | undefined;
    if (!row || Number(row.window_start) <= now - windowMs) return 0;
    return Number(row.failures);
  }

  /** Counts one failure for `key` (one atomic upsert); returns the count in the current window. */
  async fail(key: string, windowMs: number, now: number): Promise<number> {
    const db = this.ctx.db;
    const t = this.table;
    const expired = now - windowMs;
    await db(t)
      .insert({ throttle_key: key, window_start: now, failures: 1 })
      .onConflict('throttle_key')
      .merge({
        failures: db.raw(`CASE WHEN ${t}.window_start <= ? THEN 1 ELSE ${t}.failures + 1 END`, [expired]),
        window_start: db.raw(`CASE WHEN ${t}.window_start <= ? THEN ? ELSE ${t}.window_start END`, [expired, now]),
      });
    return this.failures(key, windowMs, now);
  }

  /** Removes counters whose window ended. */
  async prune(windowMs: number, now: number): Promise<void> {
    await this.ctx.db(this.table).where('window_start', '<=', now - windowMs).del();
  }
}
