/**
 * The runner's record of each bot's run (`bot_runs`): status, which instance runs it, when it
 * started and stopped, its detailedState and its last error. Only the runner writes it; the
 * API reads it joined with the bots, so the status clients see is in the database.
 *
 * With several instances on one PostgreSQL, the instance named in `instance_id` holds the
 * bot's lease (see {@link BotOwnership}); its writes are fenced with that id, so an instance
 * that lost a bot to another can no longer overwrite the run, and
 * {@link RunStore.resetStale} leaves alone the runs whose lease is still held.
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { initialDetailedState, type DetailedState } from '../runner/bot-api.js';
import { BotListCache } from './bot-list-cache.js';
import type { BotOwnership } from '../runner/ownership.js';

/** A run record as the runner reads it back. */
export interface RunRow {
  /** The bot. */
  botId: number;
  /** `running` or `stopped`. */
  status: string;
  /** The instance that runs (or last ran) it. */
  instanceId: string | null;
}

/** Restricts a write to the run as recorded by one instance (`fence`: that instance's id). */
export interface Fence {
  /** Only write while `instance_id` is this. */
  fence?: string;
}

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

  /** Replaces the bot's detailedState (with `fence`, only while that instance runs it). */
  async saveState(botId: number, state: DetailedState, options: Fence = {}): Promise<void> {
    try {
      const q = this.ctx.db(this.table).where({ bot_id: botId });
      if (options.fence !== undefined) q.andWhere('instance_id', options.fence);
      await q.update({ detailed_state: JSON.stringify(state), updated_at: this.now() });
    } finally {
      this.cache.changed();
    }
  }

  /**
   * The bot stopped; with `error`, that is recorded and shown in its detailedState. With
   * `fence`, only while the run is recorded as that instance's.
   */
  async markStopped(botId: number, state: DetailedState | undefined, error?: string, options: Fence = {}): Promise<void> {
    const fields: Record<string, unknown> = { status: 'stopped', stopped_at: this.now(), error: error ?? null };
    if (state) fields.detailed_state = JSON.stringify(state);
    else if (error) fields.detailed_state = JSON.stringify(withError(initialDetailedState(), error, this.now()));
    if (options.fence === undefined) return this.upsert(botId, fields);
    try {
      await this.ctx.db(this.table).where({ bot_id: botId, instance_id: options.fence }).update({ ...fields, updated_at: this.now() });
    } finally {
      this.cache.changed();
    }
  }

  /** The run records of some bots (none for a bot that does not exist). */
  async rows(botIds: readonly number[]): Promise<RunRow[]> {
    if (botIds.length === 0) return [];
    const rows: Array<{ bot_id: number | string; status: string; instance_id: string | null }> = await this.ctx.db(this.table).whereIn('bot_id', botIds).select('bot_id', 'status', 'instance_id');
    return rows.map((r) => ({ botId: Number(r.bot_id), status: r.status, instanceId: r.instance_id }));
  }

  /** The run record of one bot. */
  async row(botId: number): Promise<RunRow | undefined> {
    return (await this.rows([botId]))[0];
  }

  /**
   * How many bots are in each state, in one grouped query: `running`, `failed` (stopped with
   * an error: its run function threw or it could not start) and `stopped` (every other bot,
   * including one never started).
   */
  async countByState(): Promise<{
    /** Bots recorded as running. */
    running: number;
    /** Stopped without an error, or never started. */
    stopped: number;
    /** Stopped with an error. */
    failed: number;
  }> {
    const result = await this.ctx.db.raw(
      `SELECT COALESCE(r.status, 'stopped') AS status, CASE WHEN r.error IS NULL THEN 0 ELSE 1 END AS failed, COUNT(*) AS n
         FROM ?? b LEFT JOIN ?? r ON r.bot_id = b.id GROUP BY 1, 2`,
      [this.ctx.table('bots'), this.table],
    );
    const counts = { running: 0, stopped: 0, failed: 0 };
    for (const row of this.ctx.dialect.rows<{ status: string; failed: number | string; n: number | string }>(result)) {
      const n = Number(row.n);
      if (row.status === 'running') counts.running += n;
      else if (Number(row.failed) === 1) counts.failed += n;
      else counts.stopped += n;
    }
    return counts;
  }

  /** The bots recorded as running, except those listed (they run here). */
  async runningExcept(botIds: readonly number[]): Promise<number[]> {
    const q = this.ctx.db(this.table).where({ status: 'running' }).select('bot_id').orderBy('bot_id');
    if (botIds.length > 0) q.whereNotIn('bot_id', botIds);
    return ((await q) as Array<{ bot_id: number | string }>).map((r) => Number(r.bot_id));
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
   * Marks as stopped the runs recorded as running that nothing runs any more: with one
   * instance, every such run (the previous process ended without recording it); with
   * `ownership` (several instances), only those whose lease no live instance holds.
   */
  async resetStale(ownership?: BotOwnership): Promise<number> {
    const stopped = () => ({ status: 'stopped', stopped_at: this.now(), updated_at: this.now() });
    try {
      if (!ownership?.clustered) return await this.ctx.db(this.table).where({ status: 'running' }).update(stopped());
      let n = 0;
      const running: Array<{ bot_id: number | string; instance_id: string | null }> = await this.ctx.db(this.table).where({ status: 'running' }).select('bot_id', 'instance_id');
      for (const run of running) {
        if ((await ownership.holder(Number(run.bot_id))) !== undefined) continue;
        // Unless another instance took it over meanwhile (it would have written its own id).
        const q = this.ctx.db(this.table).where({ bot_id: run.bot_id, status: 'running' });
        if (run.instance_id === null) q.whereNull('instance_id');
        else q.andWhere('instance_id', run.instance_id);
        n += await q.update(stopped());
      }
      return n;
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
