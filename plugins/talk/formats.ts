/**
 * The wire shapes of Talk's responses, built from rows: conversations (`TalkRoom`, the
 * fields a client of this subset needs), participants (`TalkParticipant`), chat messages
 * (`TalkChatMessage`) and bots (`TalkBot`, `TalkBotWithDetails`). Field names and value
 * types are the original's.
 */
import { BotState, RoomType, isModeratorType } from './constants.js';
import type { AttendeeRow, BotRow, MessageRow, RoomRow } from './stores/rows.js';

/** `TalkBot`: a bot as moderators see it in a conversation. */
export interface TalkBot {
  /** Bot id. */
  id: number;
  /** Display name. */
  name: string;
  /** Description. */
  description: string;
  /** 1 enabled here, 0 not, 2 no-setup bot set up here. */
  state: number;
}

/** `TalkBotWithDetails`: a bot as administrators see it (never with its secret). */
export interface TalkBotWithDetails extends TalkBot {
  /** Webhook URL. */
  url: string;
  /** sha1 of the URL. */
  url_hash: string;
  /** Failed deliveries counted. */
  error_count: number;
  /** Unix seconds of the last failure, 0 if never. */
  last_error_date: number;
  /** The last failure. */
  last_error_message: string;
  /** Feature flags. */
  features: number;
}

/** A bot without its secret, for administrators (`bot/admin`, `bot:list`). */
export function formatBotWithDetails(bot: BotRow): TalkBotWithDetails {
  return {
    id: bot.id,
    name: bot.name,
    url: bot.url,
    url_hash: bot.urlHash,
    description: bot.description,
    error_count: bot.errorCount,
    last_error_date: bot.lastErrorDate ?? 0,
    last_error_message: bot.lastErrorMessage,
    state: bot.state,
    features: bot.features,
  };
}

/**
 * A bot for a conversation's moderators (`BotController::formatBot`): state 1 when enabled
 * there, else 0; a no-setup bot only where it is set up, with state 2.
 */
export function formatBotForRoom(bot: BotRow, enabledHere: boolean): TalkBot | null {
  let state: number = enabledHere ? BotState.Enabled : BotState.Disabled;
  if (bot.state === BotState.NoSetup) {
    if (!enabledHere) return null;
    state = BotState.NoSetup;
  }
  return { id: bot.id, name: bot.name, description: bot.description, state };
}

/** Permissions of moderators and users (`Attendee::PERMISSIONS_*` combined as Talk reports them). */
const PERMISSIONS_MODERATOR = 254;
const PERMISSIONS_USER = 246;

/** A conversation as its participant sees it (a subset of `TalkRoom`). */
export function formatRoom(room: RoomRow, attendee: AttendeeRow, lastMessage?: Record<string, unknown>): Record<string, unknown> {
  const moderator = isModeratorType(attendee.participantType);
  return {
    id: room.id,
    token: room.token,
    type: room.type,
    name: room.name,
    displayName: room.name,
    description: room.description,
    objectType: '',
    objectId: '',
    actorType: attendee.actorType,
    actorId: attendee.actorId,
    attendeeId: attendee.id,
    participantType: attendee.participantType,
    attendeePermissions: 0,
    permissions: moderator ? PERMISSIONS_MODERATOR : PERMISSIONS_USER,
    defaultPermissions: 0,
    callPermissions: 0,
    readOnly: 0,
    hasPassword: false,
    hasCall: false,
    isFavorite: false,
    lobbyState: 0,
    lobbyTimer: 0,
    sipEnabled: 0,
    listable: 0,
    messageExpiration: 0,
    notificationLevel: 0,
    lastActivity: room.lastActivity,
    lastPing: 0,
    sessionId: '0',
    lastReadMessage: room.lastMessageId ?? 0,
    lastCommonReadMessage: room.lastMessageId ?? 0,
    unreadMessages: 0,
    unreadMention: false,
    unreadMentionDirect: false,
    canStartCall: false,
    canLeaveConversation: true,
    canDeleteConversation: moderator && room.type !== RoomType.OneToOne,
    ...(lastMessage ? { lastMessage } : {}),
  };
}

/** A participant (a subset of `TalkParticipant`). */
export function formatParticipant(room: RoomRow, attendee: AttendeeRow): Record<string, unknown> {
  return {
    roomToken: room.token,
    attendeeId: attendee.id,
    actorType: attendee.actorType,
    actorId: attendee.actorId,
    displayName: attendee.displayName,
    participantType: attendee.participantType,
    attendeePermissions: 0,
    attendeePin: '',
    permissions: isModeratorType(attendee.participantType) ? PERMISSIONS_MODERATOR : PERMISSIONS_USER,
    inCall: 0,
    lastPing: 0,
    sessionIds: [],
  };
}

/** Extra data for formatting a message: reactions and, for replies, the parent. */
export interface MessageExtras {
  /** Counts per emoji. */
  reactions?: Record<string, number>;
  /** The viewer's own reactions. */
  reactionsSelf?: string[];
  /** The formatted parent, for replies. */
  parent?: Record<string, unknown>;
}

/** A chat message (`TalkChatMessage`, with `parent` for replies). */
export function formatMessage(token: string, m: MessageRow, extras: MessageExtras = {}): Record<string, unknown> {
  return {
    id: m.id,
    token,
    actorType: m.actorType,
    actorId: m.actorId,
    actorDisplayName: m.actorDisplayName,
    timestamp: m.createdAt,
    message: m.message,
    // PHP writes an empty parameter array as [] and an empty reactions object as {}.
    messageParameters: [],
    systemMessage: '',
    messageType: m.messageType,
    isReplyable: true,
    referenceId: m.referenceId,
    reactions: extras.reactions ?? {},
    ...(extras.reactionsSelf && extras.reactionsSelf.length > 0 ? { reactionsSelf: extras.reactionsSelf } : {}),
    expirationTimestamp: 0,
    markdown: true,
    ...(m.silent ? { silent: true } : {}),
    ...(extras.parent ? { parent: extras.parent } : {}),
  };
}
