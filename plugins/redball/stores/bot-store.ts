/**
 * Bots: a name, a bot type, an optional reddit authorization and the autoRun flag, read
 * together with the runner's record of the bot's run (status and detailedState).
 */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext, type RawJson } from '../../../src/index.js';
import { InvalidInput } from '../errors.js';
import { initialDetailedState, type DetailedState } from '../runner/bot-api.js';
import { defaultSystemSettings } from '../settings.js';
import { settingRow } from './bot-config-store.js';
import { BotListCache } from './bot-list-cache.js';
import { SettingsCache } from './settings-cache.js';

/** A bot as the API lists it (redball's field names and values). */
export interface BotView {
  /** Internal id. */
  id: number;
  /** Unique name. */
  name: string;
  /** The bot type's id. */
  botType: number;
  /** The reddit authorization's id, or null. */
  redditAuth: number | null;
  /** `"True"` or `"False"`, as redball answers. */
  autoRun: 'True' | 'False';
  /** `"Running"` while its run function runs, else `"Stopped"`. */
  status: 'Running' | 'Stopped';
  /** What the bot last published (plus `error` after a failure). */
  detailedState: DetailedState;
}

/** A bot's own fields. */
export interface BotRecord {
  /** Internal id. */
  id: number;
  /** Unique name. */
  name: string;
  /** Bot type id. */
  botType: number;
  /** Reddit authorization id, or null. */
  redditAuth: number | null;
  /** Start at kernel start. */
  autoRun: boolean;
}

/** Fields of a new bot. */
export interface NewBot {
  /** Unique name. */
  name: string;
  /** Bot type id. */
  botType: number;
  /** Start at kernel start. */
  autoRun: boolean;
  /** Reddit authorization id, or null. */
  redditAuth: number | null;
}

interface JoinedRow {
  id: number | string;
  name: string;
  bot_type_id: number | string;
  reddit_auth_id: number | string | null;
  auto_run: unknown;
  status: string | null;
  detailed_state: string | null;
}

/** Reads and writes bots. */
@injectable()
export class BotStore {
  private readonly table: string;
  private readonly runs: string;
  private readonly config: string;
  private readonly columns: string[];

  /**
   * @param ctx - the plugin context (database, dialect, table names)
   * @param cache - the bot list kept between changes
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext,
    @inject(BotListCache) private readonly cache: BotListCache,
    @inject(SettingsCache) private readonly settings: SettingsCache,
  ) {
    this.table = ctx.table('bots');
    this.runs = ctx.table('bot_runs');
    this.config = ctx.table('bot_config');
    this.columns = [`${this.table}.id`, `${this.table}.name`, 'bot_type_id', 'reddit_auth_id', 'auto_run', `${this.runs}.status`, `${this.runs}.detailed_state`];
  }

  private joined() {
    return this.ctx.db(this.table).leftJoin(this.runs, `${this.runs}.bot_id`, `${this.table}.id`).select(this.columns);
  }

  /** Every bot with its status, by id: one query, or none while nothing changed (do not modify the result). */
  list(): Promise<readonly BotView[]> {
    return this.cache.get(this.loadAll);
  }

  private readonly loadAll = async (): Promise<BotView[]> => {
    const rows: JoinedRow[] = await this.joined().orderBy(`${this.table}.id`);
    return rows.map((r) => this.toView(r));
  };

  /** The list endpoint's response body, `{"bots": [...]}`, serialized once while nothing changes (at once, not a promise, while it is kept). */
  listBody(): RawJson | Promise<RawJson> {
    return this.cache.body(this.loadAll);
  }

  /** One bot with its status, from the list (read once, kept between changes). */
  async get(id: number): Promise<BotView | undefined> {
    return (await this.list()).find((b) => b.id === id);
  }

  /** A bot's own fields. */
  async record(id: number): Promise<BotRecord | undefined> {
    const row = await this.ctx.db(this.table).where({ id }).first('id', 'name', 'bot_type_id', 'reddit_auth_id', 'auto_run');
    if (!row) return undefined;
    return { id: Number(row.id), name: row.name, botType: Number(row.bot_type_id), redditAuth: row.reddit_auth_id === null ? null : Number(row.reddit_auth_id), autoRun: this.ctx.dialect.bool(row.auto_run) };
  }

  /** True when the bot exists. */
  async exists(id: number): Promise<boolean> {
    return (await this.ctx.db(this.table).where({ id }).first('id')) !== undefined;
  }

  /** Ids of the bots that start with the kernel. */
  async autoRunIds(): Promise<number[]> {
    const rows: Array<{ id: number | string }> = await this.ctx.db(this.table).where({ auto_run: true }).select('id').orderBy('id');
    return rows.map((r) => Number(r.id));
  }

  /**
   * Creates a bot with redball's system settings and a stopped run record, in one
   * transaction. A duplicate name is an {@link InvalidInput}.
   */
  async create(bot: NewBot): Promise<number> {
    const now = this.ctx.dialect.toDate(new Date());
    try {
      return await this.ctx.db.transaction(async (trx) => {
        const id = await this.ctx.dialect.insertId(trx, this.table, { name: bot.name, bot_type_id: bot.botType, reddit_auth_id: bot.redditAuth, auto_run: bot.autoRun });
        await trx(this.config).insert(defaultSystemSettings().map((s) => ({ ...settingRow(id, s), system: true })));
        await trx(this.runs).insert({ bot_id: id, status: 'stopped', detailed_state: JSON.stringify(initialDetailedState()), updated_at: now });
        return id;
      });
    } catch (err) {
      throw this.translate(err, bot.name);
    } finally {
      this.cache.changed();
      this.settings.changed();
    }
  }

  /** Updates the given fields. Returns false when the bot does not exist. */
  async update(id: number, patch: Partial<NewBot>): Promise<boolean> {
    const row: Record<string, unknown> = {};
    if (patch.name !== undefined) row.name = patch.name;
    if (patch.botType !== undefined) row.bot_type_id = patch.botType;
    if (patch.autoRun !== undefined) row.auto_run = patch.autoRun;
    if (patch.redditAuth !== undefined) row.reddit_auth_id = patch.redditAuth;
    try {
      return (await this.ctx.db(this.table).where({ id }).update(row)) > 0;
    } catch (err) {
      throw this.translate(err, patch.name);
    } finally {
      this.cache.changed();
    }
  }

  /** Deletes a bot with its settings and run record. Returns false when it did not exist. */
  async delete(id: number): Promise<boolean> {
    try {
      return await this.ctx.db.transaction(async (trx) => {
        await trx(this.config).where({ bot_id: id }).delete();
        await trx(this.runs).where({ bot_id: id }).delete();
        return (await trx(this.table).where({ id }).delete()) > 0;
      });
    } finally {
      this.cache.changed();
      this.settings.changed();
    }
  }

  private translate(err: unknown, name: string | undefined): unknown {
    if (this.ctx.dialect.isUniqueViolation(err)) return new InvalidInput(`A bot named '${name}' already exists.`);
    // The referenced type or authorization was deleted between the check and the write.
    if (this.ctx.dialect.isForeignKeyViolation(err)) return new InvalidInput('The botType or redditAuth given does not exist.');
    return err;
  }

  private toView(r: JoinedRow): BotView {
    let state: DetailedState;
    try {
      state = r.detailed_state ? (JSON.parse(r.detailed_state) as DetailedState) : initialDetailedState();
    } catch {
      state = initialDetailedState();
    }
    return {
      id: Number(r.id),
      name: r.name,
      botType: Number(r.bot_type_id),
      redditAuth: r.reddit_auth_id === null ? null : Number(r.reddit_auth_id),
      autoRun: this.ctx.dialect.bool(r.auto_run) ? 'True' : 'False',
      status: r.status === 'running' ? 'Running' : 'Stopped',
      detailedState: state,
    };
  }
}
