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

/** A social platform Owncast knows: its display name and icon. */
export interface SocialPlatform {
  /** The display name, e.g. `GitHub`. */
  platform: string;
  /** The icon's URL path. */
  icon: string;
}

/**
 * The social platforms Owncast 0.0.7 knows, by key (`models.GetAllSocialHandles`), sorted by
 * key as its `/api/socialplatforms` lists them. A `Map`: handles name their platform in
 * client text, which must never reach an object's prototype.
 */
export const SOCIAL_PLATFORMS: ReadonlyMap<string, Readonly<SocialPlatform>> = new Map([
  ['bandcamp', { platform: 'Bandcamp', icon: '/img/platformlogos/bandcamp.svg' }],
  ['discord', { platform: 'Discord', icon: '/img/platformlogos/discord.svg' }],
  ['donate', { platform: 'Donations', icon: '/img/platformlogos/donate.svg' }],
  ['facebook', { platform: 'Facebook', icon: '/img/platformlogos/facebook.svg' }],
  ['follow', { platform: 'Follow', icon: '/img/platformlogos/follow.svg' }],
  ['github', { platform: 'GitHub', icon: '/img/platformlogos/github.svg' }],
  ['gitlab', { platform: 'GitLab', icon: '/img/platformlogos/gitlab.svg' }],
  ['instagram', { platform: 'Instagram', icon: '/img/platformlogos/instagram.svg' }],
  ['keyoxide', { platform: 'Keyoxide', icon: '/img/platformlogos/keyoxide.png' }],
  ['kofi', { platform: 'Ko-Fi', icon: '/img/platformlogos/ko-fi.svg' }],
  ['lbry', { platform: 'LBRY', icon: '/img/platformlogos/lbry.svg' }],
  ['liberapay', { platform: 'LiberaPay', icon: '/img/platformlogos/liberapay.svg' }],
  ['linkedin', { platform: 'LinkedIn', icon: '/img/platformlogos/linkedin.svg' }],
  ['mastodon', { platform: 'Mastodon', icon: '/img/platformlogos/mastodon.svg' }],
  ['odysee', { platform: 'Odysee', icon: '/img/platformlogos/odysee.svg' }],
  ['patreon', { platform: 'Patreon', icon: '/img/platformlogos/patreon.svg' }],
  ['paypal', { platform: 'Paypal', icon: '/img/platformlogos/paypal.svg' }],
  ['snapchat', { platform: 'Snapchat', icon: '/img/platformlogos/snapchat.svg' }],
  ['soundcloud', { platform: 'Soundcloud', icon: '/img/platformlogos/soundcloud.svg' }],
  ['spotify', { platform: 'Spotify', icon: '/img/platformlogos/spotify.svg' }],
  ['tiktok', { platform: 'TikTok', icon: '/img/platformlogos/tiktok.svg' }],
  ['twitch', { platform: 'Twitch', icon: '/img/platformlogos/twitch.svg' }],
  ['twitter', { platform: 'Twitter', icon: '/img/platformlogos/twitter.svg' }],
  ['youtube', { platform: 'YouTube', icon: '/img/platformlogos/youtube.svg' }],
]);
