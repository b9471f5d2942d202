/**
 * Row shapes of the talk tables and their normalisation: PostgreSQL returns `bigint`
 * columns as strings and SQLite booleans as 0/1, so every row read passes through here.
 */
import type { Dialect } from '../../../src/index.js';

/** A conversation. */
export interface RoomRow {
  /** Numeric id. */
  id: number;
  /** The public token (`[a-z0-9]{4,30}`). */
  token: string;
  /** One of {@link RoomType}. */
  type: number;
  /** The name (may be empty). */
  name: string;
  /** The description (may be empty). */
  description: string;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds of the last message (or creation). */
  lastActivity: number;
  /** The newest message's id. */
  lastMessageId: number | null;
}

/** A participant of a conversation. */
export interface AttendeeRow {
  /** The attendee id (`attendeeId` on the wire). */
  id: number;
  /** The conversation. */
  roomId: number;
  /** `users`, `guests`, … */
  actorType: string;
  /** The user id or guest id. */
  actorId: string;
  /** Display name. */
  displayName: string;
  /** One of {@link ParticipantType}. */
  participantType: number;
  /** Unix seconds. */
  createdAt: number;
}

/** A chat message. */
export interface MessageRow {
  /** Message id. */
  id: number;
  /** The conversation. */
  roomId: number;
  /** `users`, `guests` or `bots`. */
  actorType: string;
  /** Who posted it. */
  actorId: string;
  /** Their display name when posting. */
  actorDisplayName: string;
  /** The text. */
  message: string;
  /** `comment` for ordinary messages. */
  messageType: string;
  /** The client's reference id (may be empty). */
  referenceId: string;
  /** The message this one replies to. */
  replyTo: number | null;
  /** Posted without notifications. */
  silent: boolean;
  /** Unix seconds. */
  createdAt: number;
}

/** An installed bot, secret included (never send this row to a client). */
export interface BotRow {
  /** Bot id. */
  id: number;
  /** Display name (1–64 bytes). */
  name: string;
  /** Webhook URL. */
  url: string;
  /** sha1 of the URL; the bot's actor id is `bot-<url_hash>`. */
  urlHash: string;
  /** Description. */
  description: string;
  /** The shared secret (40–128 bytes). */
  secret: string;
  /** Failed deliveries counted so far. */
  errorCount: number;
  /** Unix seconds of the last failure, or null. */
  lastErrorDate: number | null;
  /** What the last failure was. */
  lastErrorMessage: string;
  /** One of {@link BotState}. */
  state: number;
  /** {@link BotFeature} flags. */
  features: number;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Normalises a `rooms` row. */
export function toRoom(r: Record<string, unknown>): RoomRow {
  return {
    id: num(r.id),
    token: String(r.token),
    type: num(r.type),
    name: String(r.name ?? ''),
    description: String(r.description ?? ''),
    createdAt: num(r.created_at),
    lastActivity: num(r.last_activity),
    lastMessageId: numOrNull(r.last_message_id),
  };
}

/** Normalises an `attendees` row (columns may be aliased with an `a_` prefix). */
export function toAttendee(r: Record<string, unknown>, prefix = ''): AttendeeRow {
  return {
    id: num(r[`${prefix}id`]),
    roomId: num(r[`${prefix}room_id`]),
    actorType: String(r[`${prefix}actor_type`]),
    actorId: String(r[`${prefix}actor_id`]),
    displayName: String(r[`${prefix}display_name`] ?? ''),
    participantType: num(r[`${prefix}participant_type`]),
    createdAt: num(r[`${prefix}created_at`]),
  };
}

/** Normalises a `messages` row. */
export function toMessage(r: Record<string, unknown>, dialect: Dialect): MessageRow {
  return {
    id: num(r.id),
    roomId: num(r.room_id),
    actorType: String(r.actor_type),
    actorId: String(r.actor_id),
    actorDisplayName: String(r.actor_display_name ?? ''),
    message: String(r.message),
    messageType: String(r.message_type),
    referenceId: String(r.reference_id ?? ''),
    replyTo: numOrNull(r.reply_to),
    silent: dialect.bool(r.silent),
    createdAt: num(r.created_at),
  };
}

/** Normalises a `bots` row. */
export function toBot(r: Record<string, unknown>): BotRow {
  return {
    id: num(r.id),
    name: String(r.name),
    url: String(r.url),
    urlHash: String(r.url_hash),
    description: String(r.description ?? ''),
    secret: String(r.secret),
    errorCount: num(r.error_count),
    lastErrorDate: numOrNull(r.last_error_date),
    lastErrorMessage: String(r.last_error_message ?? ''),
    state: num(r.state),
    features: num(r.features),
  };
}

/** The current time in unix seconds. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
