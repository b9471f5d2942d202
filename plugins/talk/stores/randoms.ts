/**
 * Replay protection of bot requests: the `X-Nextcloud-Talk-Random` of every accepted bot
 * request is remembered (as a hash, under a unique key) for the replay window, in the
 * database, so that every instance sharing it refuses a replay.
 */
import crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';

/** Remembers bot randoms. */
@injectable()
export class RandomStore {
  /** The table name. */
  readonly table: string;

  /** @param ctx - the plugin context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('bot_randoms');
  }

  /**
   * Records `random` as used at `now` (ms). False when it was already used within the window
   * (a replay); one that was used longer ago than the window counts as new.
   */
  async claim(random: string, windowMs: number, now: number): Promise<boolean> {
    const hash = crypto.createHash('sha256').update(random, 'utf8').digest('hex');
    await this.ctx.db(this.table).where({ random_hash: hash }).andWhere('seen_at', '<=', now - windowMs).del();
    try {
      await this.ctx.db(this.table).insert({ random_hash: hash, seen_at: now });
      return true;
    } catch (err) {
      if (this.ctx.dialect.isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Forgets randoms older than the window. */
  async prune(windowMs: number, now: number): Promise<void> {
    await this.ctx.db(this.table).where('seen_at', '<=', now - windowMs).del();
  }
}
