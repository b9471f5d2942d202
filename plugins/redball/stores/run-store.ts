/**
 * The runner's record of each bot's run (`bot_runs`): status, which instance runs it, when it
 * started and stopped, its detailedState and its last error. Only the runner writes it; the
 * API reads it joined with the bots, so the status clients see is in the database.
 *
 * Several instances (a later step) add a lease to this row — an expiry the running instance
 * keeps renewing — and {@link RunStore.resetStale} then only resets expired leases.
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { initialDetailedState, type DetailedState } from '../runner/bot-api.js';
import { BotListCache } from './bot-list-cache.js';

/** Writes run records. */
@injectable()
export class RunStore {
  private readonly table: string;

  /**
   * @param ctx - the plugin context (database, dialect, table names)
   * @param cache - the bot list, dropped after every write
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext,
    @inject(BotListCache) private readonly cache: BotListCache,
  ) {
    this.table = ctx.table('bot_runs');
  }

  private now(): string {
    return this.ctx.dialect.toDate(new Date());
  }

  private async upsert(botId: number, fields: Record<string, unknown>): Promise<void> {
    try {
      await this.write(botId, fields);
    } finally {
      this.cache.changed();
    }
  }

  private async write(botId: number, fields: Record<string, unknown>): Promise<void> {
    const row = { bot_id: botId, detailed_state: JSON.stringify(initialDetailedState()), status: 'stopped', ...fields, updated_at: this.now() };
    const { bot_id: _id, ...update } = row;
    // The bot may have been deleted meanwhile: then there is nothing to record.
    const updated = await this.ctx.db(this.table).where({ bot_id: botId }).update(update);
    if (updated === 0) {
      await this.ctx.db(this.table)
        .insert(row)
        .catch((err: unknown) => {
          if (!this.ctx.dialect.isForeignKeyViolation(err) && !this.ctx.dialect.isUniqueViolation(err)) throw err;
        });
    }
  }

  /** The bot runs now on this instance, with a fresh detailedState. */
  async markRunning(botId: number): Promise<void> {
    await this.upsert(botId, {
      status: 'running',
      instance_id: this.ctx.instanceId,
      started_at: this.now(),
      stopped_at: null,
      error: null,
      detailed_state: JSON.stringify(initialDetailedState()),
    });
  }

  /** Replaces the bot's detailedState. */
  async saveState(botId: number, state: DetailedState): Promise<void> {
    try {
      await this.ctx.db(this.table).where({ bot_id: botId }).update({ detailed_state: JSON.stringify(state), updated_at: this.now() });
    } finally {
      this.cache.changed();
    }
  }

  /** The bot stopped; with `error`, that is recorded and shown in its detailedState. */
  async markStopped(botId: number, state: DetailedState | undefined, error?: string): Promise<void> {
    const fields: Record<string, unknown> = { status: 'stopped', stopped_at: this.now(), error: error ?? null };
    if (state) fields.detailed_state = JSON.stringify(state);
    else if (error) fields.detailed_state = JSON.stringify(withError(initialDetailedState(), error, this.now()));
    await this.upsert(botId, fields);
  }

  /** The detailedState stored for a bot. */
  async state(botId: number): Promise<DetailedState | undefined> {
    const row = await this.ctx.db(this.table).where({ bot_id: botId }).first('detailed_state');
    if (!row) return undefined;
    try {
      return JSON.parse(row.detailed_state) as DetailedState;
    } catch {
      return undefined;
    }
  }

  /**
   * Marks as stopped every run recorded as running: with one instance, nothing can be
   * running when the plugin starts (the previous process ended without recording it).
   */
  async resetStale(): Promise<number> {
    try {
      return await this.ctx.db(this.table).where({ status: 'running' }).update({ status: 'stopped', stopped_at: this.now(), updated_at: this.now() });
    } finally {
      this.cache.changed();
    }
  }
}

/** A detailedState that shows a failure: the last state, an `error` entry and a summary saying so. */
export function withError(state: DetailedState, message: string, at: string): DetailedState {
  const text = `Stopped with an error: ${message}`;
  const html = `<p>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</p>`;
  return { ...state, summary: { text, html, markdown: text }, error: { message, at } };
}
