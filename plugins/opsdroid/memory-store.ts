/**
 * The bot's memory in the shared database: what the `sqlite` database module reads and
 * writes for skills (`bot.memory`). Keys live in a namespace, the database module's
 * `table` option (default `opsdroid`, as opsdroid's sqlite database names its table).
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';

interface MemoryRow {
  value: unknown;
}

/** Key-value memory by namespace. */
@injectable()
export class MemoryStore {
  private readonly table: string;

  /** @param ctx - the plugin's context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('memory');
  }

  /** A value, or undefined. */
  async get(namespace: string, key: string): Promise<unknown> {
    const row = (await this.ctx.db(this.table).where({ namespace, key }).first('value')) as MemoryRow | undefined;
    // Values are wrapped ({"v": …}) so that a bare JSON string survives PostgreSQL's jsonb.
    return row ? this.ctx.dialect.json<{ v: unknown }>(row.value).v : undefined;
  }

  /** Stores a JSON-serializable value. */
  async put(namespace: string, key: string, value: unknown): Promise<void> {
    const json = JSON.stringify({ v: value === undefined ? null : value });
    await this.ctx
      .db(this.table)
      .insert({ namespace, key, value: json, updated_at: this.ctx.dialect.toDate(new Date()) })
      .onConflict(['namespace', 'key'])
      .merge(['value', 'updated_at']);
  }

  /** Removes a value. */
  async delete(namespace: string, key: string): Promise<void> {
    await this.ctx.db(this.table).where({ namespace, key }).delete();
  }

  /** Every key of a namespace (for the CLI). */
  async keys(namespace: string): Promise<string[]> {
    const rows = (await this.ctx.db(this.table).where({ namespace }).orderBy('key').select('key')) as Array<{ key: string }>;
    return rows.map((r) => r.key);
  }
}
