/** Conversations: the `rooms` table. */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { toAttendee, toRoom, type AttendeeRow, type RoomRow } from './rows.js';

/** A database handle: the shared Knex or a transaction. */
export type Db = Knex | Knex.Transaction;

/** The characters of Talk's tokens: lower-case letters and digits without look-alikes (l, 0, 1). */
const TOKEN_CHARS = 'abcdefghijkmnopqrstuvwxyz23456789';
/** Length of new tokens, as in Talk. */
const TOKEN_LENGTH = 8;

/** Generates a conversation token. */
export function newRoomToken(): string {
  const bytes = crypto.randomBytes(TOKEN_LENGTH * 2);
  let token = '';
  for (let i = 0; token.length < TOKEN_LENGTH && i < bytes.length; i++) {
    // Rejection sampling keeps the distribution uniform.
    if (bytes[i] < 256 - (256 % TOKEN_CHARS.length)) token += TOKEN_CHARS[bytes[i] % TOKEN_CHARS.length];
  }
  return token.length === TOKEN_LENGTH ? token : newRoomToken();
}

/** Reads and writes conversations. */
@injectable()
export class RoomStore {
  /** The table name. */
  readonly table: string;
  private readonly attendees: string;

  /** @param ctx - the plugin context (database, dialect, table names) */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('rooms');
    this.attendees = ctx.table('attendees');
  }

  /** Inserts a conversation with a fresh unique token. */
  async create(db: Db, input: { type: number; name: string; description?: string; token?: string }, now: number): Promise<RoomRow> {
    for (let attempt = 0; ; attempt++) {
      const token = input.token ?? newRoomToken();
      try {
        const id = await this.ctx.dialect.insertId(db, this.table, {
          token,
          type: input.type,
          name: input.name,
          description: input.description ?? '',
          created_at: now,
          last_activity: now,
          last_message_id: null,
        });
        return { id, token, type: input.type, name: input.name, description: input.description ?? '', createdAt: now, lastActivity: now, lastMessageId: null };
      } catch (err) {
        if (input.token !== undefined || attempt >= 5 || !this.ctx.dialect.isUniqueViolation(err)) throw err;
      }
    }
  }

  /** A conversation by token. */
  async byToken(token: string, db: Db = this.ctx.db): Promise<RoomRow | undefined> {
    const row = await db(this.table).where({ token }).first();
    return row ? toRoom(row) : undefined;
  }

  /** A conversation by id. */
  async byId(id: number, db: Db = this.ctx.db): Promise<RoomRow | undefined> {
    const row = await db(this.table).where({ id }).first();
    return row ? toRoom(row) : undefined;
  }

  /** A conversation and the given actor's attendee row in it (one query). */
  async withAttendee(token: string, actorType: string, actorId: string, db: Db = this.ctx.db): Promise<{ room?: RoomRow; attendee?: AttendeeRow }> {
    const row = await db(`${this.table} as r`)
      .leftJoin(`${this.attendees} as a`, function () {
        this.on('a.room_id', '=', 'r.id').andOn('a.actor_type', '=', db.raw('?', [actorType])).andOn('a.actor_id', '=', db.raw('?', [actorId]));
      })
      .where('r.token', token)
      .first(
        'r.*',
        'a.id as a_id',
        'a.room_id as a_room_id',
        'a.actor_type as a_actor_type',
        'a.actor_id as a_actor_id',
        'a.display_name as a_display_name',
        'a.participant_type as a_participant_type',
        'a.created_at as a_created_at',
      );
    if (!row) return {};
    return { room: toRoom(row), attendee: row.a_id === null || row.a_id === undefined ? undefined : toAttendee(row, 'a_') };
  }

  /** The conversations an actor takes part in, with their attendee rows, newest activity first. */
  async forActor(actorType: string, actorId: string, db: Db = this.ctx.db): Promise<Array<{ room: RoomRow; attendee: AttendeeRow }>> {
    const rows = await db(`${this.table} as r`)
      .join(`${this.attendees} as a`, 'a.room_id', 'r.id')
      .where({ 'a.actor_type': actorType, 'a.actor_id': actorId })
      .orderBy('r.last_activity', 'desc')
      .orderBy('r.id', 'desc')
      .select(
        'r.*',
        'a.id as a_id',
        'a.room_id as a_room_id',
        'a.actor_type as a_actor_type',
        'a.actor_id as a_actor_id',
        'a.display_name as a_display_name',
        'a.participant_type as a_participant_type',
        'a.created_at as a_created_at',
      );
    return rows.map((row: Record<string, unknown>) => ({ room: toRoom(row), attendee: toAttendee(row, 'a_') }));
  }

  /**
   * Serializes posts to one conversation until `trx` ends, so that message ids in a
   * conversation commit in the order they are assigned. Without it, on PostgreSQL two posts at
   * once could commit id 11 before id 10, and a client polling with `lastKnownMessageId=11`
   * would never see message 10. SQLite already has one writer at a time.
   */
  async lockForPost(trx: Db, roomId: number): Promise<void> {
    if (this.ctx.dialect.name === 'postgres') await trx(this.table).where({ id: roomId }).select('id').forUpdate();
  }

  /**
   * Records a new message as the conversation's latest activity, unless a newer message is
   * already recorded. Posts hold {@link RoomStore.lockForPost}, so ids arrive in order; the
   * guard keeps the room right for any other caller too.
   */
  async touch(db: Db, roomId: number, messageId: number, at: number): Promise<void> {
    await db(this.table)
      .where({ id: roomId })
      .andWhere((q) => q.whereNull('last_message_id').orWhere('last_message_id', '<', messageId))
      .update({ last_activity: at, last_message_id: messageId });
  }

  /** Deletes a conversation (attendees, messages, reactions and bot set-ups go with it). */
  async delete(id: number, db: Db = this.ctx.db): Promise<boolean> {
    return (await db(this.table).where({ id }).del()) > 0;
  }
}
