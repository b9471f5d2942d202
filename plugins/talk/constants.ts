/**
 * Nextcloud Talk's numbers and names, as the original defines them (`Bot`, `Participant`,
 * `Room`, `Attendee`), so that every file speaks the same vocabulary.
 */

/** The largest id a row can have (ids are 32-bit integer columns). */
export const MAX_ROW_ID = 2147483647;

/**
 * True when `id` can be the id of a stored row (a positive 32-bit integer, the column type).
 * Larger numbers (`/reaction/abc/99999999999999999999999`, `replyTo: 2^63`) match nothing;
 * PostgreSQL would refuse them with an error instead of finding no row.
 */
export function isRowId(id: number): boolean {
  return Number.isSafeInteger(id) && id > 0 && id <= MAX_ROW_ID;
}

/** Bot states on the server (`Bot::STATE_*`), also used per conversation. */
export const BotState = {
  /** The bot is switched off server-wide (or disabled in a conversation). */
  Disabled: 0,
  /** The bot is on; moderators may enable it in their conversations. */
  Enabled: 1,
  /** The bot is on but only an administrator can set it up (`--no-setup`). */
  NoSetup: 2,
  /** The bot's app is gone (only reported by the original's listings). */
  Unavailable: 3,
} as const;

/** Bot feature bit flags (`Bot::FEATURE_*`). */
export const BotFeature = {
  /** No feature. */
  None: 0,
  /** The bot receives chat messages as signed webhooks. */
  Webhook: 1,
  /** The bot may post messages and reactions. */
  Response: 2,
  /** The bot is a Nextcloud app invoked by in-process events (not supported here). */
  Event: 4,
  /** The bot is told about reactions added and removed. */
  Reaction: 8,
} as const;

/** The feature labels of the original's `--feature` option, in flag order. */
export const FEATURE_LABELS: ReadonlyArray<readonly [number, string]> = [
  [BotFeature.Webhook, 'webhook'],
  [BotFeature.Response, 'response'],
  [BotFeature.Event, 'event'],
  [BotFeature.Reaction, 'reaction'],
];

/** Features a bot gets when none are given on install: webhook + response. */
export const DEFAULT_FEATURES = BotFeature.Webhook | BotFeature.Response;

/** URL prefix of Nextcloud-app bots (refused here: there are no Nextcloud apps). */
export const URL_APP_PREFIX = 'nextcloudapp://';
/** URL prefix of bots that only answer and never receive webhooks. */
export const URL_RESPONSE_ONLY_PREFIX = 'responseonly://';

/** Participant types (`Participant::*`). Owners and moderators moderate. */
export const ParticipantType = {
  /** Created the conversation. */
  Owner: 1,
  /** A user with moderator rights. */
  Moderator: 2,
  /** A user. */
  User: 3,
  /** A guest. */
  Guest: 4,
  /** A user who joined a public conversation by its link. */
  UserSelfJoined: 5,
  /** A guest with moderator rights. */
  GuestModerator: 6,
} as const;

/** True for owners, moderators and guest moderators. */
export function isModeratorType(type: number): boolean {
  return type === ParticipantType.Owner || type === ParticipantType.Moderator || type === ParticipantType.GuestModerator;
}

/** Conversation types (`Room::TYPE_*`). */
export const RoomType = {
  /** One-to-one conversation. */
  OneToOne: 1,
  /** Group conversation (invited participants only). */
  Group: 2,
  /** Public conversation (joinable by link). */
  Public: 3,
  /** The changelog conversation. */
  Changelog: 4,
  /** A one-to-one conversation whose other user was deleted. */
  OneToOneFormer: 5,
  /** Note to self. */
  NoteToSelf: 6,
} as const;

/** Actor types of attendees and chat messages (`Attendee::ACTOR_*`). */
export const ActorType = {
  /** A user of the host. */
  Users: 'users',
  /** A guest. */
  Guests: 'guests',
  /** A bot (messages and reactions posted by bots). */
  Bots: 'bots',
} as const;

/** The prefix of a bot's actor id: `bot-<sha1(url)>`. */
export const BOT_ACTOR_PREFIX = 'bot-';

/** The longest chat message the original accepts (32000 characters). */
export const MAX_MESSAGE_LENGTH = 32000;

/** The message of the original's OCS router for unknown routes (note the trailing newline). */
export const INVALID_QUERY_MESSAGE =
  'Invalid query, please check the syntax. API specifications are here: http://www.freedesktop.org/wiki/Specifications/open-collaboration-services.\n';

/** Turns feature labels into flags. Unknown labels are returned in `unknown`. */
export function featureLabelsToFlags(labels: readonly string[]): {
  /** The known features' bits, ORed. */
  flags: number;
  /** Labels that name no feature. */
  unknown: string[];
} {
  let flags = 0;
  const unknown: string[] = [];
  for (const raw of labels) {
    for (const label of raw.split(',').map((l) => l.trim().toLowerCase()).filter(Boolean)) {
      if (label === 'none') return { flags: BotFeature.None, unknown: [] };
      const entry = FEATURE_LABELS.find(([, l]) => l === label);
      if (entry) flags |= entry[0];
      else unknown.push(label);
    }
  }
  return { flags, unknown };
}

/** Turns feature flags into the original's label list (`webhook, response`, or `none`). */
export function featureFlagsToLabels(flags: number): string {
  if (flags === BotFeature.None) return 'none';
  return FEATURE_LABELS.filter(([flag]) => flags & flag).map(([, label]) => label).join(', ');
}
