/** Participants of conversations: the `attendees` table. */
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../../src/index.js';
import { isRowId } from '../constants.js';
import type { Db } from './rooms.js';
import { toAttendee, type AttendeeRow } from './rows.js';

/** Reads and writes attendees. */
@injectable()
export class AttendeeStore {
  /** The table name. */
  readonly table: string;

  /** @param ctx - the plugin context */
  constructor(@inject(Tokens.Context) private readonly ctx: PluginContext) {
    this.table = ctx.table('attendees');
  }

  /**
   * Adds an actor to a conversation; when it is already there, returns the existing row
   * and `created: false`.
   */
  async add(db: Db, roomId: number, actor: { type: string; id: string; displayName: string }, participantType: number, now: number): Promise<{ attendee: AttendeeRow; created: boolean }> {
    const existing = await this.byActor(roomId, actor.type, actor.id, db);
    if (existing) return { attendee: existing, created: false };
    try {
      const id = await this.ctx.dialect.insertId(db, this.table, {
        room_id: roomId,
        actor_type: actor.type,
        actor_id: actor.id,
        display_name: actor.displayName,
        participant_type: participantType,
        created_at: now,
      });
      return { attendee: { id, roomId, actorType: actor.type, actorId: actor.id, displayName: actor.displayName, participantType, createdAt: now }, created: true };
    } catch (err) {
      // Added concurrently by someone else.
      if (!this.ctx.dialect.isUniqueViolation(err)) throw err;
      const row = await this.byActor(roomId, actor.type, actor.id, db);
      if (!row) throw err;
      return { attendee: row, created: false };
    }
  }

  /** An actor's attendee row in a conversation. */
  async byActor(roomId: number, actorType: string, actorId: string, db: Db = this.ctx.db): Promise<AttendeeRow | undefined> {
    const row = await db(this.table).where({ room_id: roomId, actor_type: actorType, actor_id: actorId }).first();
    return row ? toAttendee(row) : undefined;
  }

  /** An attendee of a conversation by attendee id. */
  async byId(roomId: number, attendeeId: number, db: Db = this.ctx.db): Promise<AttendeeRow | undefined> {
    if (!isRowId(attendeeId)) return undefined;
    const row = await db(this.table).where({ room_id: roomId, id: attendeeId }).first();
    return row ? toAttendee(row) : undefined;
  }

  /** Every attendee of a conversation, in the order they joined. */
  async list(roomId: number, db: Db = this.ctx.db): Promise<AttendeeRow[]> {
    const rows = await db(this.table).where({ room_id: roomId }).orderBy('id');
    return rows.map((r: Record<string, unknown>) => toAttendee(r));
  }

  /** Changes an attendee's participant type. */
  async setType(attendeeId: number, participantType: number, db: Db = this.ctx.db): Promise<void> {
    await db(this.table).where({ id: attendeeId }).update({ participant_type: participantType });
  }

  /** Updates the display name stored for an actor, if it changed. */
  async rename(attendee: AttendeeRow, displayName: string, db: Db = this.ctx.db): Promise<void> {
    if (displayName && displayName !== attendee.displayName) {
      await db(this.table).where({ id: attendee.id }).update({ display_name: displayName });
      attendee.displayName = displayName;
    }
  }

  /** Removes an attendee. */
  async remove(attendeeId: number, db: Db = this.ctx.db): Promise<boolean> {
    return (await db(this.table).where({ id: attendeeId }).del()) > 0;
  }
}
