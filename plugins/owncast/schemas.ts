/**
 * TypeBox schemas of the bodies the plugin answers with, for the OpenAPI document the kernel
 * builds from the route declarations.
 */
import { Type } from '../../src/index.js';

/** `{"success": bool, "message": string}`. */
export const BasicResponseSchema = Type.Object({ success: Type.Boolean(), message: Type.String() });

/** `{"error": string}`. */
export const ErrorSchema = Type.Object({ error: Type.String() });

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);

/** A chat message. */
export const ChatMessageSchema = Type.Object({
  id: Type.String(),
  author: Type.String(),
  body: Type.String({ description: 'Sanitized HTML rendered from the markdown the author wrote.' }),
  type: Type.String(),
  visible: Type.Boolean(),
  timestamp: DateTime,
});

/** A list of chat messages. */
export const ChatMessagesSchema = Type.Array(ChatMessageSchema);

/** A connected chat client. */
export const ClientSchema = Type.Object({
  connectedAt: DateTime,
  messageCount: Type.Integer(),
  userAgent: Type.String(),
  ipAddress: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  clientID: Type.String(),
});

/** A log entry. */
export const LogEntrySchema = Type.Object({ message: Type.String(), level: Type.String(), time: DateTime });

/** A sample. */
export const TimestampedValueSchema = Type.Object({ time: DateTime, value: Type.Integer() });

/** `/api/admin/hardwarestats`. */
export const HardwareStatsSchema = Type.Object({
  cpu: Type.Array(TimestampedValueSchema),
  memory: Type.Array(TimestampedValueSchema),
  disk: Type.Array(TimestampedValueSchema),
});

/** `/api/status`. */
export const StatusSchema = Type.Object({
  online: Type.Boolean(),
  viewerCount: Type.Integer(),
  overallMaxViewerCount: Type.Integer(),
  sessionMaxViewerCount: Type.Integer(),
  lastConnectTime: NullableDateTime,
  lastDisconnectTime: NullableDateTime,
  versionNumber: Type.String(),
  streamTitle: Type.String(),
});

const SocialHandleSchema = Type.Object({ platform: Type.String(), url: Type.String(), icon: Type.Optional(Type.String()) });

/** `/api/config`. */
export const WebConfigSchema = Type.Object({
  name: Type.String(),
  summary: Type.String(),
  logo: Type.String(),
  tags: Type.Array(Type.String()),
  nsfw: Type.Boolean(),
  extraPageContent: Type.String(),
  version: Type.String(),
  streamTitle: Type.Optional(Type.String()),
  socialHandles: Type.Array(SocialHandleSchema),
  chatDisabled: Type.Boolean(),
  externalActions: Type.Array(Type.Object({}, { additionalProperties: true })),
  customStyles: Type.String(),
});

const StreamDetailsSchema = Type.Object({
  width: Type.Integer(),
  height: Type.Integer(),
  frameRate: Type.Integer(),
  framerate: Type.Number(),
  videoBitrate: Type.Integer(),
  videoCodec: Type.String(),
  audioBitrate: Type.Integer(),
  audioCodec: Type.String(),
  encoder: Type.String(),
});

/** `/api/admin/status`. */
export const AdminStatusSchema = Type.Object({
  broadcaster: Type.Union([Type.Object({ remoteAddr: Type.String(), time: DateTime, streamDetails: StreamDetailsSchema }), Type.Null()]),
  online: Type.Boolean(),
  viewerCount: Type.Integer(),
  sessionPeakViewerCount: Type.Integer(),
  overallPeakViewerCount: Type.Integer(),
  versionNumber: Type.String(),
  streamTitle: Type.String(),
});

/** `/api/admin/serverconfig` (the settings, with the stream key). */
export const ServerConfigSchema = Type.Object({
  instanceDetails: Type.Object({}, { additionalProperties: true }),
  ffmpegPath: Type.String(),
  webServerPort: Type.Integer(),
  rtmpServerPort: Type.Integer(),
  streamKey: Type.String(),
  s3: Type.Object({}, { additionalProperties: true }),
  videoSettings: Type.Object({ videoQualityVariants: Type.Array(Type.Object({}, { additionalProperties: true })), latencyLevel: Type.Integer() }),
  videoCodec: Type.String(),
  yp: Type.Object({ enabled: Type.Boolean(), instanceUrl: Type.String() }),
  chatDisabled: Type.Boolean(),
  externalActions: Type.Array(Type.Object({}, { additionalProperties: true })),
});

/** `/api/yp`. */
export const YpSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  logo: Type.String(),
  nsfw: Type.Boolean(),
  tags: Type.Array(Type.String()),
  online: Type.Boolean(),
  viewerCount: Type.Integer(),
  overallMaxViewerCount: Type.Integer(),
  sessionMaxViewerCount: Type.Integer(),
  lastConnectTime: NullableDateTime,
});

/** A custom emoji. */
export const EmojiSchema = Type.Object({ name: Type.String(), emoji: Type.String() });

/** An access token. */
export const AccessTokenSchema = Type.Object({
  token: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  timestamp: DateTime,
  lastUsed: NullableDateTime,
});

/** A webhook. */
export const WebhookSchema = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  timestamp: DateTime,
  lastUsed: NullableDateTime,
});

/** `/api/socialplatforms`: the known platforms by key. */
export const SocialPlatformsSchema = Type.Record(Type.String(), Type.Object({ platform: Type.String(), icon: Type.String() }));

/** `/api/video/variants`. */
export const VideoVariantsSchema = Type.Array(Type.Object({ name: Type.String(), index: Type.Integer() }));
