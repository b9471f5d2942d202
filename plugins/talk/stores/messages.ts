/** Chat messages: the `messages` table. */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { isRowId } from '../constants.js';
import type { Db } from './rooms.js';
import { toMessage, type MessageRow } from './rows.js';

/** A message to insert. */
export interface NewMessage {
  /** The conversation. */
  roomId: number;
  /** `users`, `guests` or `bots`. */
  actorType: string;
  /** Who posts. */
  actorId: string;
  /** Their display name. */
  actorDisplayName: string;
  /** The text. */
  message: string;
  /** The client's reference id. */
  referenceId: string;
  /** The parent message. */
  replyTo: number | null;
  /** Without notifications. */
  silent: boolean;
}

/** Reads and writes chat messages. */
@injectable()
export class MessageStore {
  /** The table name. */
  readonly table: string;

  /** @param ctx - the plugin context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('messages');
  }

  /** Inserts a message and returns it. */
  async insert(db: Db, input: NewMessage, now: number): Promise<MessageRow> {
    const id = await this.ctx.dialect.insertId(db, this.table, {
      room_id: input.roomId,
      actor_type: input.actorType,
      actor_id: input.actorId,
      actor_display_name: input.actorDisplayName,
      message: input.message,
      message_type: 'comment',
      reference_id: input.referenceId,
      reply_to: input.replyTo,
      silent: input.silent,
      created_at: now,
    });
    return { id, ...input, messageType: 'comment', createdAt: now };
  }

  /** A message of a conversation. */
  async byId(roomId: number, id: number, db: Db = this.ctx.db): Promise<MessageRow | undefined> {
    if (!isRowId(id)) return undefined;
    const row = await db(this.table).where({ room_id: roomId, id }).first();
    return row ? toMessage(row, this.ctx.dialect) : undefined;
  }

  /** Messages by id (any conversation), for parents and last messages. */
  async byIds(ids: readonly number[], db: Db = this.ctx.db): Promise<Map<number, MessageRow>> {
    const out = new Map<number, MessageRow>();
    if (ids.length === 0) return out;
    const rows = await db(this.table).whereIn('id', [...new Set(ids)]);
    for (const r of rows) {
      const m = toMessage(r, this.ctx.dialect);
      out.set(m.id, m);
    }
    return out;
  }

  /**
   * History: messages older than `before` (all when 0), newest first (`lookIntoFuture=0`).
   * With `inclusive` the message `before` itself is included.
   */
  async history(roomId: number, before: number, limit: number, inclusive = false, db: Db = this.ctx.db): Promise<MessageRow[]> {
    const q = db(this.table).where({ room_id: roomId });
    if (before > 0) q.andWhere('id', inclusive ? '<=' : '<', before);
    const rows = await q.orderBy('id', 'desc').limit(limit);
    return rows.map((r: Record<string, unknown>) => toMessage(r, this.ctx.dialect));
  }

  /** New messages: newer than `after`, oldest first (`lookIntoFuture=1`). */
  async future(roomId: number, after: number, limit: number, inclusive = false, db: Db = this.ctx.db): Promise<MessageRow[]> {
    const rows = await db(this.table)
      .where({ room_id: roomId })
      .andWhere('id', inclusive ? '>=' : '>', after)
      .orderBy('id', 'asc')
      .limit(limit);
    return rows.map((r: Record<string, unknown>) => toMessage(r, this.ctx.dialect));
  }
}
