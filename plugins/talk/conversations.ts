/**
 * The conversation model a host drives directly or through the OCS subset: conversations,
 * their participants (owner, moderator, user, guest…), chat messages and reactions. Every
 * chat message by a person goes, in the same transaction, to the bots enabled in its
 * conversation (see {@link BotDelivery}).
 */
import type { Request } from 'express';
import { inject, injectable } from 'tsyringe';
import { Tokens, type PluginContext } from '../../src/index.js';
import { BotDelivery } from './bot-delivery.js';
import { ChatNotifier } from './chat-notifier.js';
import { ListingCache } from './listing-cache.js';
import type { TalkConfig } from './config.js';
import { ActorType, MAX_MESSAGE_LENGTH, MAX_ROW_ID, ParticipantType, RoomType, isModeratorType } from './constants.js';
import { formatMessage } from './formats.js';
import { talkError } from './ocs.js';
import { AttendeeStore } from './stores/attendees.js';
import { MessageStore } from './stores/messages.js';
import { ReactionStore, type ReactionRow } from './stores/reactions.js';
import { RoomStore } from './stores/rooms.js';
import { nowSeconds, type AttendeeRow, type MessageRow, type RoomRow } from './stores/rows.js';

/** A person in the conversation model: a host user or a guest. */
export interface TalkActor {
  /** `users` (default) or `guests`. */
  type?: 'users' | 'guests';
  /** The user id (or guest id). */
  id: string;
  /** Display name (default: the id). */
  displayName?: string;
}

/** Who posts a message: a person or a bot. */
export interface MessageAuthor {
  /** `users`, `guests` or `bots`. */
  type: string;
  /** Actor id (`bot-<hash>` for bots). */
  id: string;
  /** Display name. */
  displayName: string;
}

/** A conversation as one participant reaches it. */
export interface RoomAccess {
  /** The conversation. */
  room: RoomRow;
  /** The participant. */
  attendee: AttendeeRow;
}

/** What to post. */
export interface PostInput {
  /** The text (not blank, at most 32000 characters). */
  message: string;
  /** The id of the message this replies to (same conversation). */
  replyTo?: number;
  /** A client reference (at most 64 characters; longer ones are dropped). */
  referenceId?: string;
  /** Post without notifications. */
  silent?: boolean;
}

/** Options of reading the chat. */
export interface ReadOptions {
  /** 1: wait for messages newer than `lastKnownMessageId`; 0: history, newest first. */
  lookIntoFuture: 0 | 1;
  /** The message id to read from (0: newest / from the start). */
  lastKnownMessageId?: number;
  /** At most this many messages (default 100, at most 200). */
  limit?: number;
  /** Include `lastKnownMessageId` itself. */
  includeLastKnown?: boolean;
  /** For `lookIntoFuture=1`: how long to wait for a new message, in seconds (default and cap: config). */
  timeoutSeconds?: number;
  /** Ends the wait early (the client went away). */
  signal?: AbortSignal;
}

/** Talk's limits on reading. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 200;

/** True when `text` is exactly one emoji (one grapheme with an emoji code point). */
export function isSingleEmoji(text: string): boolean {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return false;
  const graphemes = [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text)];
  return graphemes.length === 1 && /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u.test(text);
}

function actorOf(actor: TalkActor): MessageAuthor {
  return { type: actor.type ?? ActorType.Users, id: actor.id, displayName: actor.displayName ?? actor.id };
}

/** Conversations, participants, chat and reactions. */
@injectable()
export class ConversationService {
  /**
   * @param ctx - the plugin context
   * @param rooms - conversations
   * @param attendees - participants
   * @param messages - chat messages
   * @param reactions - reactions
   * @param delivery - webhooks to bots
   * @param notifier - long-poll wake-ups
   * @param cache - cached moderator listings, cleared when participants change
   * @internal Resolved from the plugin container, not constructed by hand.
   */
  constructor(
    @inject(Tokens.Context) private readonly ctx: PluginContext<TalkConfig>,
    private readonly rooms: RoomStore,
    private readonly attendees: AttendeeStore,
    private readonly messages: MessageStore,
    private readonly reactions: ReactionStore,
    private readonly delivery: BotDelivery,
    private readonly notifier: ChatNotifier,
    private readonly cache: ListingCache,
  ) {}

  /** Creates a group (2) or public (3) conversation whose owner is `owner`. 400 `{error: type|name}` otherwise. */
  async createRoom(owner: TalkActor, input: { type: number; name: string; description?: string }): Promise<RoomAccess> {
    if (input.type !== RoomType.Group && input.type !== RoomType.Public) throw talkError(400, { error: 'type' });
    const name = String(input.name ?? '').trim();
    if (name === '' || [...name].length > 255) throw talkError(400, { error: 'name' });
    const description = input.description ?? '';
    if ([...description].length > 2000) throw talkError(400, { error: 'description' });
    const now = nowSeconds();
    return this.ctx.db.transaction(async (trx) => {
      const room = await this.rooms.create(trx, { type: input.type, name, description }, now);
      const { attendee } = await this.attendees.add(trx, room.id, actorOf(owner), ParticipantType.Owner, now);
      return { room, attendee };
    });
  }

  /** A conversation by token, or undefined. */
  room(token: string): Promise<RoomRow | undefined> {
    return this.rooms.byToken(token);
  }

  /** A conversation and the caller's attendee row; 404 when either is missing (as Talk answers). */
  async access(token: string, actor: TalkActor): Promise<RoomAccess> {
    const a = actorOf(actor);
    const { room, attendee } = await this.rooms.withAttendee(token, a.type, a.id);
    if (!room || !attendee) throw talkError(404);
    return { room, attendee };
  }

  /** Like {@link access}, and 403 when the caller does not moderate the conversation. */
  async moderatorAccess(token: string, actor: TalkActor): Promise<RoomAccess> {
    const found = await this.access(token, actor);
    if (!isModeratorType(found.attendee.participantType)) throw talkError(403);
    return found;
  }

  /** The conversations an actor takes part in, most recently active first. */
  roomsOf(actor: TalkActor): Promise<RoomAccess[]> {
    const a = actorOf(actor);
    return this.rooms.forActor(a.type, a.id);
  }

  /** Adds a participant (a user by default); `created: false` when already there. */
  async addParticipant(room: RoomRow, actor: TalkActor, participantType?: number): Promise<{
    /** The participant. */
    attendee: AttendeeRow;
    /** Whether they were added now (not already there). */
    created: boolean;
  }> {
    const a = actorOf(actor);
    if (!a.id || a.id.length > 255) throw talkError(400, { error: 'participant' });
    const type = participantType ?? (a.type === ActorType.Guests ? ParticipantType.Guest : ParticipantType.User);
    if (!Object.values(ParticipantType).includes(type as never)) throw talkError(400, { error: 'type' });
    return this.attendees.add(this.ctx.db, room.id, a, type, nowSeconds());
  }

  /** Every participant of a conversation. */
  participants(room: RoomRow): Promise<AttendeeRow[]> {
    return this.attendees.list(room.id);
  }

  /** Updates the display name stored for a participant (when the host knows a better one). */
  rename(attendee: AttendeeRow, displayName: string): Promise<void> {
    return this.attendees.rename(attendee, displayName);
  }

  /**
   * Promotes a user to moderator (or a guest to guest moderator), or demotes: 404 unknown
   * attendee, 403 for oneself or the owner, 400 when already so.
   */
  async changeModerator(room: RoomRow, caller: AttendeeRow | undefined, attendeeId: number, promote: boolean): Promise<AttendeeRow> {
    const target = await this.attendees.byId(room.id, attendeeId);
    if (!target) throw talkError(404);
    if (caller && caller.actorType === target.actorType && caller.actorId === target.actorId) throw talkError(403);
    if (target.participantType === ParticipantType.Owner) throw talkError(403);
    if (promote === isModeratorType(target.participantType)) throw talkError(400);
    const next: Record<number, number> = promote
      ? { [ParticipantType.User]: ParticipantType.Moderator, [ParticipantType.UserSelfJoined]: ParticipantType.Moderator, [ParticipantType.Guest]: ParticipantType.GuestModerator }
      : { [ParticipantType.Moderator]: ParticipantType.User, [ParticipantType.GuestModerator]: ParticipantType.Guest };
    const type = next[target.participantType];
    if (type === undefined) throw talkError(400);
    await this.attendees.setType(target.id, type);
    this.cache.invalidate();
    return { ...target, participantType: type };
  }

  /**
   * Posts a chat message. Blank → 400, too long → 413 `{error: message}`, a `replyTo` that is
   * not a message of this conversation → 400. Messages by people go to the conversation's
   * bots (webhook feature) in the same transaction; bots' messages never do.
   */
  async post(room: RoomRow, author: MessageAuthor, input: PostInput, options: { req?: Request; backendUrl?: string; participantType?: number } = {}): Promise<{
    /** The stored message. */
    message: MessageRow;
    /** The message it replies to. */
    parent?: MessageRow;
  }> {
    const text = typeof input.message === 'string' ? input.message : '';
    if (text.trim() === '') throw talkError(400);
    if ([...text].length > MAX_MESSAGE_LENGTH) throw talkError(413, { error: 'message' });
    let parent: MessageRow | undefined;
    if (input.replyTo !== undefined && input.replyTo !== 0) {
      parent = await this.messages.byId(room.id, Number(input.replyTo));
      if (!parent || parent.messageType !== 'comment') throw talkError(400);
    }
    const referenceId = typeof input.referenceId === 'string' && input.referenceId.length <= 64 ? input.referenceId : '';
    const backendUrl = options.backendUrl ?? this.delivery.backendUrl(options.req);
    const now = nowSeconds();
    const message = await this.ctx.db.transaction(async (trx) => {
      await this.rooms.lockForPost(trx, room.id);
      const m = await this.messages.insert(
        trx,
        { roomId: room.id, actorType: author.type, actorId: author.id, actorDisplayName: author.displayName, message: text, referenceId, replyTo: parent?.id ?? null, silent: input.silent === true },
        now,
      );
      await this.rooms.touch(trx, room.id, m.id, now);
      await this.delivery.messageCreated(trx, room, m, author, parent ? { message: parent } : undefined, backendUrl, options.participantType);
      return m;
    });
    room.lastActivity = now;
    room.lastMessageId = message.id;
    this.ctx.events.emit('talk.message', { token: room.token, roomId: room.id, messageId: message.id, actorType: author.type, actorId: author.id, message: text }, { cluster: true });
    return { message, parent };
  }

  /**
   * Reads the chat. History (`lookIntoFuture=0`) is newest first; `lookIntoFuture=1` returns
   * newer messages oldest first and, when there are none yet, waits up to the timeout.
   * An empty result is what the original answers with 304.
   */
  async read(room: RoomRow, options: ReadOptions): Promise<MessageRow[]> {
    const limit = Math.max(1, Math.min(MAX_LIMIT, options.limit ?? DEFAULT_LIMIT));
    // No message has an id past the column's range: clamping keeps PostgreSQL from refusing the query.
    const last = Math.min(MAX_ROW_ID, Math.max(0, options.lastKnownMessageId ?? 0));
    if (options.lookIntoFuture === 0) return this.messages.history(room.id, last, limit, options.includeLastKnown === true);
    const maxPoll = this.ctx.config.chat.maxPollSeconds;
    const timeout = Math.max(0, Math.min(maxPoll, options.timeoutSeconds ?? maxPoll));
    const wait = this.notifier.prepare(room.id);
    try {
      const first = await this.messages.future(room.id, last, limit, options.includeLastKnown === true);
      if (first.length > 0 || timeout === 0) return first;
      await wait.wait(timeout * 1000, options.signal);
      if (options.signal?.aborted) return [];
      return this.messages.future(room.id, last, limit, options.includeLastKnown === true);
    } finally {
      wait.cancel();
    }
  }

  /** Wire shapes of messages, with reactions and parents (a constant number of queries). */
  format(room: RoomRow, rows: readonly MessageRow[], viewer?: TalkActor): Promise<Array<Record<string, unknown>>> {
    return this.formatMany(rows.map((row) => ({ token: room.token, row })), viewer);
  }

  /** Wire shapes of messages from several conversations (a constant number of queries). */
  async formatMany(items: ReadonlyArray<{ token: string; row: MessageRow }>, viewer?: TalkActor): Promise<Array<Record<string, unknown>>> {
    if (items.length === 0) return [];
    const parentIds = items.map((i) => i.row.replyTo).filter((id): id is number => id !== null);
    const parents = await this.messages.byIds(parentIds);
    const ids = [...items.map((i) => i.row.id), ...parents.keys()];
    const v = viewer ? actorOf(viewer) : undefined;
    const [counts, own] = await Promise.all([this.reactions.counts(ids), v ? this.reactions.own(ids, v.type, v.id) : Promise.resolve(new Map<number, string[]>())]);
    return items.map(({ token, row }) => {
      const parent = row.replyTo === null ? undefined : parents.get(row.replyTo);
      return formatMessage(token, row, {
        reactions: counts.get(row.id),
        reactionsSelf: own.get(row.id),
        parent: parent ? formatMessage(token, parent, { reactions: counts.get(parent.id), reactionsSelf: own.get(parent.id) }) : undefined,
      });
    });
  }

  /** The newest message of each conversation, formatted, by conversation id (a constant number of queries). */
  async lastMessages(rooms: readonly RoomRow[], viewer?: TalkActor): Promise<Map<number, Record<string, unknown>>> {
    const out = new Map<number, Record<string, unknown>>();
    const withLast = rooms.filter((r) => r.lastMessageId !== null);
    if (withLast.length === 0) return out;
    const rows = await this.messages.byIds(withLast.map((r) => r.lastMessageId!));
    const items = withLast.filter((r) => rows.has(r.lastMessageId!)).map((r) => ({ room: r, token: r.token, row: rows.get(r.lastMessageId!)! }));
    const formatted = await this.formatMany(items, viewer);
    items.forEach((item, i) => out.set(item.room.id, formatted[i]));
    return out;
  }

  /** One message of a conversation. */
  message(room: RoomRow, id: number): Promise<MessageRow | undefined> {
    return this.messages.byId(room.id, id);
  }

  /**
   * Adds (or removes) a reaction. 404 when the message is not in the conversation (or, on
   * removal, the reaction does not exist), 400 when `reaction` is not one emoji. Returns
   * whether something changed. People's reactions go to bots with the reaction feature.
   */
  async react(room: RoomRow, author: MessageAuthor, messageId: number, reaction: string, add: boolean, options: { req?: Request; backendUrl?: string } = {}): Promise<boolean> {
    const message = await this.messages.byId(room.id, messageId);
    if (!message) throw talkError(404);
    if (!isSingleEmoji(reaction)) throw talkError(400);
    if (message.messageType !== 'comment') throw talkError(400);
    const backendUrl = options.backendUrl ?? this.delivery.backendUrl(options.req);
    return this.ctx.db.transaction(async (trx) => {
      const changed = add
        ? await this.reactions.add(trx, { messageId, actorType: author.type, actorId: author.id, actorDisplayName: author.displayName, reaction, createdAt: nowSeconds() })
        : await this.reactions.remove(trx, messageId, author.type, author.id, reaction);
      if (!changed && !add) throw talkError(404);
      if (changed) await this.delivery.reaction(trx, room, message, author, reaction, add, backendUrl);
      return changed;
    });
  }

  /** Every reaction to a message grouped by emoji (`array<string, list<TalkReaction>>`). */
  async reactionsOf(messageId: number, only?: string): Promise<Record<string, Array<Record<string, unknown>>>> {
    // Keyed by reaction text from the database: a null-prototype object, so no text can reach Object.prototype.
    const out = Object.create(null) as Record<string, Array<Record<string, unknown>>>;
    for (const r of await this.reactions.list(messageId)) {
      if (only !== undefined && r.reaction !== only) continue;
      (out[r.reaction] ??= []).push(formatReaction(r));
    }
    return out;
  }
}

function formatReaction(r: ReactionRow): Record<string, unknown> {
  return { actorDisplayName: r.actorDisplayName, actorId: r.actorId, actorType: r.actorType, timestamp: r.createdAt };
}
