/**
 * The fixed vocabulary of the Owncast 0.0.7 API: chat event types, webhook events, access
 * token scopes, the admin realm, and the version strings this plugin reports.
 */

/** The Owncast API version this plugin is compatible with (reported as `versionNumber`). */
export const OWNCAST_API_VERSION = '0.0.7';

/** The realm of the admin HTTP Basic challenge. */
export const ADMIN_REALM = 'Owncast Authenticated Request';

/** The only admin user name. */
export const ADMIN_USER = 'admin';

/** Chat event types, as they appear in the `type` field of chat messages and websocket frames. */
export const ChatEventTypes = {
  /** A user's chat message. */
  CHAT: 'CHAT',
  /** A user joined the chat. */
  USER_JOINED: 'USER_JOINED',
  /** A user changed their name. */
  NAME_CHANGE: 'NAME_CHANGE',
  /** A message was hidden or shown by a moderator. */
  VISIBILITY_UPDATE: 'VISIBILITY-UPDATE',
  /** A message from the server itself. */
  SYSTEM: 'SYSTEM',
  /** An action ("x rolled a 15"). */
  CHAT_ACTION: 'CHAT_ACTION',
  /** The stream started. */
  STREAM_STARTED: 'STREAM_STARTED',
  /** The stream stopped. */
  STREAM_STOPPED: 'STREAM_STOPPED',
  /** Keep-alive from the server. */
  PING: 'PING',
  /** Keep-alive answer from a client. */
  PONG: 'PONG',
} as const;

/** One chat event type. */
export type ChatEventType = (typeof ChatEventTypes)[keyof typeof ChatEventTypes];

/** Events a webhook can subscribe to (Owncast's six, plus `STREAM_TITLE_UPDATED`). */
export const WEBHOOK_EVENTS = [
  'CHAT',
  'USER_JOINED',
  'NAME_CHANGE',
  'VISIBILITY-UPDATE',
  'STREAM_STARTED',
  'STREAM_STOPPED',
  'STREAM_TITLE_UPDATED',
] as const;

/** One webhook event name. */
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Access token scopes. Exact match: none implies another. */
export const Scopes = {
  /** `chat/system` and `chat/action`. */
  CAN_SEND_SYSTEM_MESSAGES: 'CAN_SEND_SYSTEM_MESSAGES',
  /** `chat/user`. */
  CAN_SEND_MESSAGES: 'CAN_SEND_MESSAGES',
  /** `streamtitle`, `chat`, `clients` and message visibility. */
  HAS_ADMIN_ACCESS: 'HAS_ADMIN_ACCESS',
} as const;

/** Every valid scope. */
export const ALL_SCOPES: readonly string[] = Object.values(Scopes);

/** Known social platforms and their icons, as Owncast lists them. */
export const SOCIAL_PLATFORM_ICONS: Readonly<Record<string, string>> = {
  bandcamp: '/img/platformlogos/bandcamp.svg',
  discord: '/img/platformlogos/discord.svg',
  facebook: '/img/platformlogos/facebook.svg',
  github: '/img/platformlogos/github.svg',
  gitlab: '/img/platformlogos/gitlab.svg',
  instagram: '/img/platformlogos/instagram.svg',
  keyoxide: '/img/platformlogos/keyoxide.png',
  kofi: '/img/platformlogos/ko-fi.svg',
  linkedin: '/img/platformlogos/linkedin.svg',
  mastodon: '/img/platformlogos/mastodon.svg',
  patreon: '/img/platformlogos/patreon.svg',
  paypal: '/img/platformlogos/paypal.svg',
  snapchat: '/img/platformlogos/snapchat.svg',
  soundcloud: '/img/platformlogos/soundcloud.svg',
  spotify: '/img/platformlogos/spotify.svg',
  tiktok: '/img/platformlogos/tiktok.svg',
  twitch: '/img/platformlogos/twitch.svg',
  twitter: '/img/platformlogos/twitter.svg',
  youtube: '/img/platformlogos/youtube.svg',
  donate: '/img/platformlogos/donate.svg',
  follow: '/img/platformlogos/follow.svg',
};
