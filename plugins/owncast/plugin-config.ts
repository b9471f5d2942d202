/**
 * The plugin's configuration (the `plugins.owncast` section of the standalone config).
 *
 * `streamKey` is the admin password until it is changed through the API; `defaults` are the
 * initial values of the settings the admin API changes (the database wins once a setting
 * has been set); the other sections tune chat, metrics and caching.
 */
import { Type, type Static } from '../../src/index.js';

const StreamQualitySchema = Type.Object({
  videoPassthrough: Type.Boolean({ default: false }),
  audioPassthrough: Type.Boolean({ default: true }),
  videoBitrate: Type.Integer({ minimum: 0, default: 1200 }),
  audioBitrate: Type.Integer({ minimum: 0, default: 0 }),
  scaledWidth: Type.Optional(Type.Integer({ minimum: 0 })),
  scaledHeight: Type.Optional(Type.Integer({ minimum: 0 })),
  framerate: Type.Integer({ minimum: 0, default: 24 }),
  cpuUsageLevel: Type.Integer({ minimum: 0, maximum: 5, default: 2 }),
});

/** The schema of the plugin's configuration, with defaults. */
export const OwncastConfigSchema = Type.Object({
  streamKey: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'The admin password (user `admin`) and stream key. Without one, a random key is generated, stored and printed once.',
    }),
  ),
  versionNumber: Type.String({ default: '0.0.7', description: 'The `versionNumber` reported by the status endpoints.' }),
  defaults: Type.Object(
    {
      name: Type.String({ default: 'Owncast' }),
      summary: Type.String({ default: 'This is brief summary of whom you are or what your stream is. You can edit this description in the admin.' }),
      streamTitle: Type.String({ default: '' }),
      logo: Type.String({ default: '/img/logo.svg' }),
      tags: Type.Array(Type.String(), { default: ['owncast', 'streaming'] }),
      pageContent: Type.String({ default: '', description: 'Markdown shown on the page (rendered and sanitized in `/api/config`).' }),
      nsfw: Type.Boolean({ default: false }),
      serverUrl: Type.String({ default: '' }),
      ffmpegPath: Type.String({ default: '/usr/bin/ffmpeg' }),
      webServerPort: Type.Integer({ minimum: 1, maximum: 65535, default: 8080 }),
      rtmpServerPort: Type.Integer({ minimum: 1, maximum: 65535, default: 1935 }),
      latencyLevel: Type.Integer({ minimum: 0, maximum: 4, default: 2 }),
      videoCodec: Type.String({ default: 'libx264' }),
      streamOutputVariants: Type.Array(StreamQualitySchema, {
        minItems: 1,
        default: [{ videoPassthrough: false, audioPassthrough: true, videoBitrate: 1200, audioBitrate: 0, framerate: 24, cpuUsageLevel: 2 }],
      }),
      customStyles: Type.String({ default: '' }),
      directoryEnabled: Type.Boolean({ default: false }),
    },
    { default: {} },
  ),
  admin: Type.Object(
    {
      corsOrigins: Type.Array(Type.String(), {
        default: ['*'],
        description: "Origins the admin API's CORS headers are sent to: `*` reflects any origin (Owncast's behaviour); list origins to restrict it.",
      }),
    },
    { default: {} },
  ),
  chat: Type.Object(
    {
      historyWindowHours: Type.Number({ exclusiveMinimum: 0, default: 5, description: 'How far back `/api/chat` and the moderation list look.' }),
      historyLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'Messages `/api/chat` returns at most.' }),
      moderationLimit: Type.Integer({ minimum: 1, default: 10000, description: 'Messages `/api/admin/chat/messages` returns at most (the newest).' }),
      maxMessageLength: Type.Integer({ minimum: 1, default: 2000, description: 'Longest chat message accepted (characters of markdown).' }),
      maxNameLength: Type.Integer({ minimum: 1, default: 100, description: 'Longest user name accepted.' }),
      rateLimitPerSecond: Type.Number({ exclusiveMinimum: 0, default: 0.6, description: 'Sustained chat messages per second per connection (excess ones are dropped).' }),
      rateLimitBurst: Type.Integer({ minimum: 1, default: 5 }),
      pingIntervalMs: Type.Integer({ minimum: 100, default: 30000, description: 'How often the server sends PING (and checks that sockets are alive).' }),
      maxConnections: Type.Integer({ minimum: 1, default: 10000, description: 'Chat connections this process accepts.' }),
      trustForwardedFor: Type.Boolean({ default: false, description: 'Take client addresses from X-Forwarded-For (only behind a trusted proxy).' }),
      retentionDays: Type.Number({ minimum: 0, default: 0, description: 'Delete chat messages older than this many days (0 keeps them).' }),
    },
    { default: {} },
  ),
  metrics: Type.Object(
    {
      viewersIntervalMs: Type.Integer({ minimum: 50, default: 120000, description: 'How often the viewer count is sampled.' }),
      hardwareIntervalMs: Type.Integer({ minimum: 50, default: 60000, description: 'How often CPU, memory and disk are sampled.' }),
      retention: Type.Integer({ minimum: 1, default: 500, description: 'Samples kept per series.' }),
      diskPath: Type.String({ default: '.', description: 'The file system whose usage is reported as `disk`.' }),
    },
    { default: {} },
  ),
  emoji: Type.Object(
    {
      directory: Type.Optional(Type.String({ description: 'A directory of custom emoji images listed by `/api/emoji`.' })),
      urlPrefix: Type.String({ default: '/img/emoji', description: 'The URL path the emoji images are served under.' }),
    },
    { default: {} },
  ),
  refreshIntervalMs: Type.Integer({
    minimum: 50,
    default: 1000,
    description: 'How often the server re-reads shared state (configuration, broadcast, webhooks) from the database, so changes made by the CLI or another instance show up.',
  }),
});

/** The validated configuration of the plugin. */
export type OwncastConfig = Static<typeof OwncastConfigSchema>;
