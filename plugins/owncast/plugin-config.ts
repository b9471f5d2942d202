/**
 * The plugin's configuration (the `plugins.owncast` section of the standalone config).
 *
 * `streamKey` is the admin password until it is changed through the API; `defaults` are the
 * initial values of the settings the admin API changes (the database wins once a setting
 * has been set); the other sections tune chat, metrics and caching.
 */
import { Type, type Static, type TSchema } from '../../src/index.js';
import type { Settings, StreamQuality } from './settings.js';

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

const configSchema = Type.Object({
  streamKey: Type.Optional(
    Type.String({
      minLength: 6,
      maxLength: 256,
      description: 'The admin password (user `admin`) and stream key, 6 to 256 characters. Without one, a random key is generated, stored and printed once.',
    }),
  ),
  versionNumber: Type.String({ default: '0.0.7', description: 'The `versionNumber` reported by the status endpoints.' }),
  defaults: Type.Object(
    {
      name: Type.String({ default: 'Owncast' }),
      summary: Type.String({ default: 'This is brief summary of whom you are or what your stream is. You can edit this description in the admin.' }),
      welcomeMessage: Type.String({ default: '', description: 'Markdown sent to each chat client as it connects (empty: none).' }),
      chatDisabled: Type.Boolean({ default: false, description: 'Start with chat disabled.' }),
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
        description:
          "Origins (`https://admin.example`) whose pages may call the admin API with the admin's credentials: each gets its origin and `Access-Control-Allow-Credentials: true`. `*` sends `Access-Control-Allow-Origin: *` without credentials, so no other page can use them.",
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
      welcomeDelayMs: Type.Integer({
        minimum: 0,
        maximum: 60000,
        default: 7000,
        description: "How long after a client connects the welcome message is sent (Owncast's 7 seconds, so that people notice it come in).",
      }),
      presenceTtlMs: Type.Integer({
        minimum: 500,
        default: 15000,
        description:
          "Several instances on one PostgreSQL: how long an instance's chat clients keep counting after it last renewed its presence (renewed every third of this); the viewers of an instance that died disappear after this.",
      }),
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

/** The schema of the plugin's configuration, with defaults (its type is {@link OwncastConfig}). */
export const OwncastConfigSchema: TSchema = configSchema;

/** An output variant of the default video settings: a {@link StreamQuality} without a name. */
export type OwncastDefaultVariant = Omit<StreamQuality, 'name'>;

/** The validated configuration of the plugin (see the user guide for each key). */
export interface OwncastConfig {
  /** The admin password and stream key (a generated one is used when absent). */
  streamKey?: string;
  /** The `versionNumber` of the status endpoints. */
  versionNumber: string;
  /** Initial values of the settings the admin API changes (each documented on {@link Settings}). */
  defaults: Pick<
    Settings,
    'name' | 'summary' | 'welcomeMessage' | 'chatDisabled' | 'streamTitle' | 'logo' | 'tags' | 'pageContent' | 'nsfw' | 'serverUrl' | 'ffmpegPath' | 'webServerPort' | 'rtmpServerPort' | 'latencyLevel' | 'videoCodec' | 'customStyles' | 'directoryEnabled'
  > & {
    /** Output variants. */
    streamOutputVariants: OwncastDefaultVariant[];
  };
  /** Admin API settings. */
  admin: {
    /** Origins whose pages may call the admin API with credentials (`*`: any origin, without credentials). */
    corsOrigins: string[];
  };
  /** Chat settings. */
  chat: {
    /** Window of `/api/chat` and the moderation list, hours. */
    historyWindowHours: number;
    /** Messages `/api/chat` returns. */
    historyLimit: number;
    /** Messages the moderation list returns at most. */
    moderationLimit: number;
    /** Longest message accepted. */
    maxMessageLength: number;
    /** Longest user name accepted. */
    maxNameLength: number;
    /** Sustained frames per second per connection. */
    rateLimitPerSecond: number;
    /** Frames a connection may send at once. */
    rateLimitBurst: number;
    /** PING and liveness interval, ms. */
    pingIntervalMs: number;
    /** Connections per process. */
    maxConnections: number;
    /** Trust `X-Forwarded-For`. */
    trustForwardedFor: boolean;
    /** Delay of the welcome message after a client connects, ms. */
    welcomeDelayMs: number;
    /** Several instances: how long an instance's presence lasts without renewal, ms. */
    presenceTtlMs: number;
    /** Delete messages older than this many days (0: keep). */
    retentionDays: number;
  };
  /** Metrics settings. */
  metrics: {
    /** Viewer sampling interval, ms. */
    viewersIntervalMs: number;
    /** Hardware sampling interval, ms. */
    hardwareIntervalMs: number;
    /** Samples kept per series. */
    retention: number;
    /** File system reported as `disk`. */
    diskPath: string;
  };
  /** Custom emoji. */
  emoji: {
    /** Directory of emoji images. */
    directory?: string;
    /** URL path they are served under. */
    urlPrefix: string;
  };
  /** How often shared state is re-read from the database, ms. */
  refreshIntervalMs: number;
}

// The interface and the schema must agree, both ways.
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: Mutual<Static<typeof configSchema>, OwncastConfig> = true;
void schemaMatchesInterface;
