/** Installed bots and the conversations they are set up in: `bots` and `bot_conversations`. */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { BotState, isRowId } from '../constants.js';
import type { Db } from './rooms.js';
import { toBot, type BotRow } from './rows.js';

/** A bot to insert. */
export interface NewBot {
  /** Display name. */
  name: string;
  /** Webhook URL. */
  url: string;
  /** sha1 of the URL. */
  urlHash: string;
  /** Description. */
  description: string;
  /** Shared secret. */
  secret: string;
  /** Server state. */
  state: number;
  /** Feature flags. */
  features: number;
}

/** A bot together with its state in one conversation (0 when not set up there). */
export interface BotInRoom {
  /** The bot. */
  bot: BotRow;
  /** Set up in the conversation (a `bot_conversations` row exists). */
  setUp: boolean;
  /** The per-conversation state, when set up. */
  conversationState: number;
}

/** Reads and writes bots. */
@injectable()
export class BotStore {
  /** The bots table. */
  readonly table: string;
  /** The per-conversation table. */
  readonly conversations: string;

  /** @param ctx - the plugin context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('bots');
    this.conversations = ctx.table('bot_conversations');
  }

  /** Inserts a bot; returns its id. Unique violations (url hash, secret) propagate. */
  async insert(db: Db, bot: NewBot, now: number): Promise<number> {
    return this.ctx.dialect.insertId(db, this.table, {
      name: bot.name,
      url: bot.url,
      url_hash: bot.urlHash,
      description: bot.description,
      secret: bot.secret,
      error_count: 0,
      last_error_date: null,
      last_error_message: '',
      state: bot.state,
      features: bot.features,
      created_at: now,
    });
  }

  /** A bot by id. */
  async byId(id: number, db: Db = this.ctx.db): Promise<BotRow | undefined> {
    if (!isRowId(id)) return undefined;
    const row = await db(this.table).where({ id }).first();
    return row ? toBot(row) : undefined;
  }

  /** A bot by URL hash (the URL is unique through its hash). */
  async byUrlHash(urlHash: string, db: Db = this.ctx.db): Promise<BotRow | undefined> {
    const row = await db(this.table).where({ url_hash: urlHash }).first();
    return row ? toBot(row) : undefined;
  }

  /** True when another bot already uses this secret. */
  async secretInUse(secret: string, db: Db = this.ctx.db): Promise<boolean> {
    return (await db(this.table).where({ secret }).first('id')) !== undefined;
  }

  /** Every bot, by id. */
  async all(db: Db = this.ctx.db): Promise<BotRow[]> {
    const rows = await db(this.table).orderBy('id');
    return rows.map((r: Record<string, unknown>) => toBot(r));
  }

  /** Every bot with its set-up state in one conversation (one query). */
  async allForRoom(roomId: number, db: Db = this.ctx.db): Promise<BotInRoom[]> {
    const rows = await db(`${this.table} as b`)
      .leftJoin(`${this.conversations} as c`, function () {
        this.on('c.bot_id', '=', 'b.id').andOn('c.room_id', '=', db.raw('?', [roomId]));
      })
      .orderBy('b.id')
      .select('b.*', 'c.id as c_id', 'c.state as c_state');
    return rows.map((r: Record<string, unknown>) => ({
      bot: toBot(r),
      setUp: r.c_id !== null && r.c_id !== undefined,
      conversationState: r.c_state === null || r.c_state === undefined ? BotState.Disabled : Number(r.c_state),
    }));
  }

  /**
   * What `GET bot/{token}` needs, in one query: whether the conversation exists, the
   * caller's participant type in it (undefined when not a participant), and — only for
   * moderators — every bot with whether it is set up there.
   */
  async listingForModerator(token: string, actorType: string, actorId: string, moderatorTypes: readonly number[], db: Db = this.ctx.db): Promise<{ exists: boolean; participantType?: number; bots: BotInRoom[] }> {
    const rows = (await db(`${this.ctx.table('rooms')} as r`)
      .leftJoin(`${this.ctx.table('attendees')} as a`, function () {
        this.on('a.room_id', '=', 'r.id').andOn('a.actor_type', '=', db.raw('?', [actorType])).andOn('a.actor_id', '=', db.raw('?', [actorId]));
      })
      .leftJoin(`${this.table} as b`, function () {
        this.onIn('a.participant_type', moderatorTypes as number[]);
      })
      .leftJoin(`${this.conversations} as c`, function () {
        this.on('c.bot_id', '=', 'b.id').andOn('c.room_id', '=', 'r.id');
      })
      .where('r.token', token)
      .orderBy('b.id')
      .select('a.participant_type as p_type', 'b.id', 'b.name', 'b.description', 'b.state', 'c.id as c_id')) as Array<Record<string, unknown>>;
    if (rows.length === 0) return { exists: false, bots: [] };
    const pType = rows[0].p_type;
    const bots: BotInRoom[] = [];
    for (const r of rows) {
      if (r.id === null || r.id === undefined) continue;
      bots.push({
        bot: { id: Number(r.id), name: String(r.name), description: String(r.description ?? ''), state: Number(r.state) } as BotRow,
        setUp: r.c_id !== null && r.c_id !== undefined,
        conversationState: BotState.Enabled,
      });
    }
    return { exists: true, participantType: pType === null || pType === undefined ? undefined : Number(pType), bots };
  }

  /**
   * The bots that act in a conversation (`BotService::getBotsForToken`): set up there, neither
   * disabled on the server nor in the conversation, and having one of `anyFeature` (0: any).
   */
  async activeInRoom(roomId: number, anyFeature: number, db: Db = this.ctx.db): Promise<BotRow[]> {
    const q = db(`${this.table} as b`)
      .join(`${this.conversations} as c`, 'c.bot_id', 'b.id')
      .where('c.room_id', roomId)
      .andWhere('b.state', '<>', BotState.Disabled)
      .andWhere('c.state', '<>', BotState.Disabled)
      .orderBy('b.id')
      .select('b.*');
    const rows = (await q) as Array<Record<string, unknown>>;
    return rows.map((r) => toBot(r)).filter((b) => anyFeature === 0 || (b.features & anyFeature) !== 0);
  }

  /** Sets a bot up in a conversation; false when it already was. */
  async setUp(db: Db, botId: number, roomId: number): Promise<boolean> {
    const existing = await db(this.conversations).where({ bot_id: botId, room_id: roomId }).first('id');
    if (existing) return false;
    try {
      await db(this.conversations).insert({ bot_id: botId, room_id: roomId, state: BotState.Enabled });
      return true;
    } catch (err) {
      if (this.ctx.dialect.isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Removes a bot from a conversation; false when it was not set up there. */
  async tearDown(db: Db, botId: number, roomId: number): Promise<boolean> {
    return (await db(this.conversations).where({ bot_id: botId, room_id: roomId }).del()) > 0;
  }

  /** Changes a bot's server state and, when given, its features. */
  async update(id: number, changes: { state?: number; features?: number }, db: Db = this.ctx.db): Promise<void> {
    const row: Record<string, unknown> = {};
    if (changes.state !== undefined) row.state = changes.state;
    if (changes.features !== undefined) row.features = changes.features;
    if (Object.keys(row).length > 0) await db(this.table).where({ id }).update(row);
  }

  /** Counts a failed delivery: `error_count + 1`, the date and the message. */
  async recordError(id: number, at: number, message: string, db: Db = this.ctx.db): Promise<void> {
    await db(this.table)
      .where({ id })
      .update({ error_count: db.raw('error_count + 1'), last_error_date: at, last_error_message: message.slice(0, 4000) });
  }

  /** The sum of every installed bot's `error_count` (one aggregate query). */
  async totalErrors(db: Db = this.ctx.db): Promise<number> {
    const row = (await db(this.table).sum({ n: 'error_count' }).first()) as { n: number | string | null } | undefined;
    return Number(row?.n ?? 0);
  }

  /** Deletes a bot and its set-ups. */
  async delete(id: number, db: Db = this.ctx.db): Promise<boolean> {
    await db(this.conversations).where({ bot_id: id }).del();
    return (await db(this.table).where({ id }).del()) > 0;
  }
}
