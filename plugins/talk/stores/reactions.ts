/** Reactions to chat messages: the `reactions` table. */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import type { Db } from './rooms.js';

/** One reaction of one actor. */
export interface ReactionRow {
  /** The message reacted to. */
  messageId: number;
  /** Who reacted. */
  actorType: string;
  /** Who reacted. */
  actorId: string;
  /** Their display name. */
  actorDisplayName: string;
  /** The emoji. */
  reaction: string;
  /** Unix seconds. */
  createdAt: number;
}

/** Reads and writes reactions. */
@injectable()
export class ReactionStore {
  /** The table name. */
  readonly table: string;

  /** @param ctx - the plugin context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('reactions');
  }

  /** Adds a reaction; false when the actor already reacted so. */
  async add(db: Db, row: ReactionRow): Promise<boolean> {
    const exists = await db(this.table)
      .where({ message_id: row.messageId, actor_type: row.actorType, actor_id: row.actorId, reaction: row.reaction })
      .first('id');
    if (exists) return false;
    try {
      await db(this.table).insert({
        message_id: row.messageId,
        actor_type: row.actorType,
        actor_id: row.actorId,
        actor_display_name: row.actorDisplayName,
        reaction: row.reaction,
        created_at: row.createdAt,
      });
      return true;
    } catch (err) {
      if (this.ctx.dialect.isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Removes a reaction; false when there was none. */
  async remove(db: Db, messageId: number, actorType: string, actorId: string, reaction: string): Promise<boolean> {
    return (await db(this.table).where({ message_id: messageId, actor_type: actorType, actor_id: actorId, reaction }).del()) > 0;
  }

  /** Counts per emoji for each message (one query for a whole page of messages). */
  async counts(messageIds: readonly number[], db: Db = this.ctx.db): Promise<Map<number, Record<string, number>>> {
    const out = new Map<number, Record<string, number>>();
    if (messageIds.length === 0) return out;
    const rows = await db(this.table)
      .whereIn('message_id', [...new Set(messageIds)])
      .groupBy('message_id', 'reaction')
      .select('message_id', 'reaction')
      .count({ n: '*' })
      .min({ first: 'id' })
      .orderBy('first');
    for (const r of rows as Array<{ message_id: number | string; reaction: string; n: number | string }>) {
      const id = Number(r.message_id);
      // Keyed by reaction text: a null-prototype object, so no text can reach Object.prototype.
      const map = out.get(id) ?? (Object.create(null) as Record<string, number>);
      map[r.reaction] = Number(r.n);
      out.set(id, map);
    }
    return out;
  }

  /** The emojis an actor used on each message (for `reactionsSelf`). */
  async own(messageIds: readonly number[], actorType: string, actorId: string, db: Db = this.ctx.db): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    if (messageIds.length === 0) return out;
    const rows = await db(this.table).whereIn('message_id', [...new Set(messageIds)]).andWhere({ actor_type: actorType, actor_id: actorId }).orderBy('id');
    for (const r of rows as Array<{ message_id: number | string; reaction: string }>) {
      const id = Number(r.message_id);
      out.set(id, [...(out.get(id) ?? []), r.reaction]);
    }
    return out;
  }

  /** Every reaction to a message, grouped by emoji, in the order given. */
  async list(messageId: number, db: Db = this.ctx.db): Promise<ReactionRow[]> {
    const rows = await db(this.table).where({ message_id: messageId }).orderBy('id');
    return rows.map((r: Record<string, unknown>) => ({
      messageId: Number(r.message_id),
      actorType: String(r.actor_type),
      actorId: String(r.actor_id),
      actorDisplayName: String(r.actor_display_name ?? ''),
      reaction: String(r.reaction),
      createdAt: Number(r.created_at),
    }));
  }
}
