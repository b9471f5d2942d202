/**
 * The settings the admin API changes: their types, and one definition per setter
 * (`/api/admin/config/<path>`) with the body schema, the checks beyond types, and the
 * success message. A setter that refuses a value changes nothing.
 */
import { Type, type Static, type TSchema } from '../../src/index.js';
import { badRequest } from './wire.js';

/** One output variant of the video (Owncast's `StreamQuality`). */
export interface StreamQuality {
  /** Pass the video through without transcoding. */
  videoPassthrough: boolean;
  /** Pass the audio through without transcoding. */
  audioPassthrough: boolean;
  /** Video bitrate, kbps. */
  videoBitrate: number;
  /** Audio bitrate, kbps. */
  audioBitrate: number;
  /** Resized width, when resized. */
  scaledWidth?: number;
  /** Resized height, when resized. */
  scaledHeight?: number;
  /** Frames per second. */
  framerate: number;
  /** Hardware utilisation level (0–5). */
  cpuUsageLevel: number;
  /** A display name, when given. */
  name?: string;
}

/** A link to a social profile. */
export interface SocialHandle {
  /** The platform's key, e.g. `github`. */
  platform: string;
  /** The profile URL. */
  url: string;
}

/** A button in the web UI that opens an external page. */
export interface ExternalAction {
  /** The page's URL. */
  url: string;
  /** The button's title. */
  title: string;
  /** An optional description. */
  description?: string;
  /** An optional icon URL. */
  icon?: string;
  /** An optional button color. */
  color?: string;
  /** Open in a new tab instead of a modal. */
  openExternally?: boolean;
}

/** External storage settings (S3-compatible). */
export interface S3Settings {
  /** Whether external storage is used. */
  enabled: boolean;
  /** The S3 API endpoint. */
  endpoint: string;
  /** An optional public endpoint serving the files (a CDN). */
  servingEndpoint: string;
  /** The access key. */
  accessKey: string;
  /** The secret (a secret: never logged). */
  secret: string;
  /** The bucket. */
  bucket: string;
  /** The region. */
  region: string;
  /** An optional ACL for uploaded files. */
  acl: string;
}

/** Every setting, with its current value. */
export interface Settings {
  /** The server's name. */
  name: string;
  /** The server's summary. */
  summary: string;
  /** Sent to each chat client as it connects ('' sends none). */
  welcomeMessage: string;
  /** Chat is off: messages are refused, and `/api/config` tells the web UI to hide the chat. */
  chatDisabled: boolean;
  /** The current stream title ('' when none). */
  streamTitle: string;
  /** The logo path. */
  logo: string;
  /** Tags (categories). */
  tags: string[];
  /** Page content, in markdown. */
  pageContent: string;
  /** Not safe for work. */
  nsfw: boolean;
  /** The server's public URL. */
  serverUrl: string;
  /** Path of the ffmpeg binary (informational: the host does the video). */
  ffmpegPath: string;
  /** The public web port (informational). */
  webServerPort: number;
  /** The RTMP ingest port (informational). */
  rtmpServerPort: number;
  /** The latency level, 0–4. */
  latencyLevel: number;
  /** The video codec. */
  videoCodec: string;
  /** The output variants. */
  streamOutputVariants: StreamQuality[];
  /** Custom CSS for the web UI. */
  customStyles: string;
  /** Whether the server is listed in the Owncast directory. */
  directoryEnabled: boolean;
  /** Social links. */
  socialHandles: SocialHandle[];
  /** External action buttons. */
  externalActions: ExternalAction[];
  /** External storage. */
  s3: S3Settings;
  /** The directory registration key ('' when not registered). */
  ypRegistrationKey: string;
  /** The stream key set through the API (overrides the configured one), or ''. */
  streamKey: string;
  /** A stream key generated because none was configured, or ''. */
  generatedStreamKey: string;
}

/** The name of one setting. */
export type SettingKey = keyof Settings;

/** Empty external storage settings. */
export const EMPTY_S3: S3Settings = { enabled: false, endpoint: '', servingEndpoint: '', accessKey: '', secret: '', bucket: '', region: '', acl: '' };

/** True for an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const NullableString = Type.Optional(Type.Union([Type.String(), Type.Null()]));

/** The body schema of a StreamQuality in a setter. */
export const StreamQualityInput = Type.Object({
  videoPassthrough: Type.Optional(Type.Boolean()),
  audioPassthrough: Type.Optional(Type.Boolean()),
  videoBitrate: Type.Optional(Type.Integer({ minimum: 0 })),
  audioBitrate: Type.Optional(Type.Integer({ minimum: 0 })),
  scaledWidth: Type.Optional(Type.Integer({ minimum: 0 })),
  scaledHeight: Type.Optional(Type.Integer({ minimum: 0 })),
  framerate: Type.Optional(Type.Integer({ minimum: 0 })),
  cpuUsageLevel: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
  name: Type.Optional(Type.String()),
});

/** The body schema of the S3 setter's value. */
export const S3Input = Type.Object({
  enabled: Type.Boolean(),
  endpoint: NullableString,
  servingEndpoint: NullableString,
  accessKey: NullableString,
  secret: NullableString,
  bucket: NullableString,
  region: NullableString,
  acl: NullableString,
});

/** The body schema of a social handle. */
export const SocialHandleInput = Type.Object({ platform: Type.String({ minLength: 1 }), url: Type.String({ minLength: 1 }) });

/** The body schema of an external action. */
export const ExternalActionInput = Type.Object({
  url: Type.String({ minLength: 1 }),
  title: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
  icon: Type.Optional(Type.String()),
  color: Type.Optional(Type.String()),
  openExternally: Type.Optional(Type.Boolean()),
});

/** A setter of one setting. */
export interface SetterDefinition {
  /** The path under `/api/admin/config/`. */
  path: string;
  /** One line for the OpenAPI document. */
  summary: string;
  /** More for the OpenAPI document, when one line is not enough. */
  description?: string;
  /** The body schema (validated before `apply`). */
  body: TSchema;
  /** Checks the parsed body beyond its types and returns the settings to store; throws a 400 to refuse. */
  apply(body: any): Partial<Settings>;
  /** The success message. */
  message: string;
}

const valueOf = <T extends TSchema>(schema: T) => Type.Object({ value: schema });

function nonBlank(what: string, value: string): string {
  if (value.trim() === '') throw badRequest(`${what} must not be empty`);
  return value;
}

function normalizeVariant(v: Static<typeof StreamQualityInput>): StreamQuality {
  const out: StreamQuality = {
    videoPassthrough: v.videoPassthrough ?? false,
    audioPassthrough: v.audioPassthrough ?? false,
    videoBitrate: v.videoBitrate ?? 0,
    audioBitrate: v.audioBitrate ?? 0,
    framerate: v.framerate ?? 0,
    cpuUsageLevel: v.cpuUsageLevel ?? 0,
  };
  if (v.scaledWidth) out.scaledWidth = v.scaledWidth;
  if (v.scaledHeight) out.scaledHeight = v.scaledHeight;
  if (v.name !== undefined) out.name = v.name;
  return out;
}

/** Checks the S3 settings in Owncast's order and returns them normalized. */
export function normalizeS3(v: Static<typeof S3Input>): S3Settings {
  const s3: S3Settings = {
    enabled: v.enabled,
    endpoint: v.endpoint ?? '',
    servingEndpoint: v.servingEndpoint ?? '',
    accessKey: v.accessKey ?? '',
    secret: v.secret ?? '',
    bucket: v.bucket ?? '',
    region: v.region ?? '',
    acl: v.acl ?? '',
  };
  if (s3.enabled) {
    if (s3.endpoint === '' || !isHttpUrl(s3.endpoint)) throw badRequest('s3 support requires an endpoint');
    if (s3.accessKey === '' || s3.secret === '') throw badRequest('s3 support requires an access key and secret');
    if (s3.region === '') throw badRequest('s3 support requires a region and endpoint');
    if (s3.bucket === '') throw badRequest('s3 support requires a bucket created for storing public video segments');
    if (s3.servingEndpoint !== '' && !isHttpUrl(s3.servingEndpoint)) throw badRequest('s3 servingEndpoint must be an http(s) URL');
  }
  return s3;
}

/** Every `/api/admin/config/*` setter except the stream title (which also posts to chat). */
export const SETTERS: readonly SetterDefinition[] = [
  {
    path: 'key',
    summary: 'Set the stream key (also the admin password).',
    // The key is also the admin's HTTP Basic password: a key too long to send in a header
    // would lock the admin out.
    body: valueOf(Type.String({ minLength: 6, maxLength: 256 })),
    apply: (b: { value: string }) => {
      if (b.value.trim() !== b.value) throw badRequest('value must not start or end with white space');
      return { streamKey: b.value };
    },
    message: 'changed',
  },
  { path: 'pagecontent', summary: 'Set the custom page content (markdown).', body: valueOf(Type.String()), apply: (b) => ({ pageContent: b.value }), message: 'changed' },
  { path: 'name', summary: 'Set the server name.', body: valueOf(Type.String()), apply: (b) => ({ name: nonBlank('value', b.value) }), message: 'changed' },
  { path: 'serversummary', summary: 'Set the server summary.', body: valueOf(Type.String()), apply: (b) => ({ summary: b.value }), message: 'changed' },
  {
    path: 'welcomemessage',
    summary: 'Set the message sent to each chat client as it connects.',
    description: 'Markdown, trimmed; an empty value sends none. It appears as `instanceDetails.welcomeMessage` in `/api/admin/serverconfig`.',
    body: valueOf(Type.String()),
    apply: (b: { value: string }) => ({ welcomeMessage: b.value.trim() }),
    message: 'changed',
  },
  {
    path: 'chat/disable',
    summary: 'Disable or enable chat.',
    description: 'While chat is disabled, chat messages are refused (integrations get 400) and `chatDisabled` is true in `/api/config` and `/api/admin/serverconfig`.',
    body: valueOf(Type.Boolean()),
    apply: (b: { value: boolean }) => ({ chatDisabled: b.value }),
    message: 'chat disabled status updated',
  },
  { path: 'logo', summary: 'Set the server logo path.', body: valueOf(Type.String()), apply: (b) => ({ logo: nonBlank('value', b.value) }), message: 'changed' },
  {
    path: 'tags',
    summary: 'Set the server tags.',
    body: valueOf(Type.Array(Type.String())),
    apply: (b: { value: string[] }) => ({ tags: b.value.map((t) => t.trim()).filter((t) => t !== '') }),
    message: 'changed',
  },
  { path: 'ffmpegpath', summary: 'Set the ffmpeg binary path.', body: valueOf(Type.String()), apply: (b) => ({ ffmpegPath: nonBlank('value', b.value) }), message: 'changed' },
  {
    path: 'webserverport',
    summary: 'Set the web server port.',
    body: valueOf(Type.Integer({ minimum: 1, maximum: 65535 })),
    apply: (b) => ({ webServerPort: b.value }),
    message: 'http port set',
  },
  {
    path: 'rtmpserverport',
    summary: 'Set the inbound RTMP port.',
    body: valueOf(Type.Integer({ minimum: 1, maximum: 65535 })),
    apply: (b) => ({ rtmpServerPort: b.value }),
    message: 'rtmp port set',
  },
  { path: 'nsfw', summary: 'Mark the stream as not safe for work.', body: valueOf(Type.Boolean()), apply: (b) => ({ nsfw: b.value }), message: 'changed' },
  {
    path: 'directoryenabled',
    summary: 'Enable the Owncast directory listing.',
    body: valueOf(Type.Boolean()),
    apply: (b) => ({ directoryEnabled: b.value }),
    message: 'directory state changed',
  },
  {
    path: 'serverurl',
    summary: 'Set the public URL of this server.',
    body: valueOf(Type.String()),
    apply: (b: { value: string }) => {
      if (b.value !== '' && !isHttpUrl(b.value)) throw badRequest('value must be an http(s) URL');
      return { serverUrl: b.value };
    },
    message: 'server url set',
  },
  {
    path: 'video/streamlatencylevel',
    summary: 'Set the latency level (0–4).',
    body: valueOf(Type.Integer({ minimum: 0, maximum: 4 })),
    apply: (b) => ({ latencyLevel: b.value }),
    message: 'set stream latency',
  },
  {
    path: 'video/streamoutputvariants',
    summary: 'Set the output variants of the stream.',
    body: valueOf(Type.Array(StreamQualityInput, { minItems: 1 })),
    apply: (b: { value: Array<Static<typeof StreamQualityInput>> }) => ({ streamOutputVariants: b.value.map(normalizeVariant) }),
    message: 'stream output variants updated',
  },
  {
    path: 'video/codec',
    summary: 'Set the video codec.',
    body: valueOf(Type.String({ minLength: 1 })),
    apply: (b: { value: string }) => {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(b.value)) throw badRequest('value must be a codec name such as libx264');
      return { videoCodec: b.value };
    },
    message: 'video codec updated',
  },
  { path: 's3', summary: 'Set the external storage configuration.', body: valueOf(S3Input), apply: (b) => ({ s3: normalizeS3(b.value) }), message: 'storage configuration changed' },
  {
    path: 'socialhandles',
    summary: 'Set the social links.',
    body: valueOf(Type.Array(SocialHandleInput)),
    apply: (b: { value: SocialHandle[] }) => {
      b.value.forEach((h, i) => {
        if (!isHttpUrl(h.url)) throw badRequest(`value[${i}].url must be an http(s) URL`);
      });
      return { socialHandles: b.value.map((h) => ({ platform: h.platform, url: h.url })) };
    },
    message: 'social handles updated',
  },
  { path: 'customstyles', summary: 'Set custom CSS for the web UI.', body: valueOf(Type.String()), apply: (b) => ({ customStyles: b.value }), message: 'custom styles updated' },
];

/** The external actions setter: its body is the array itself, without a `value` wrapper. */
export const EXTERNAL_ACTIONS_SETTER: SetterDefinition = {
  path: 'externalactions',
  summary: 'Set the external action buttons.',
  body: Type.Array(ExternalActionInput),
  apply: (actions: Array<Static<typeof ExternalActionInput>>) => {
    actions.forEach((a, i) => {
      if (!isHttpUrl(a.url)) throw badRequest(`[${i}].url must be an http(s) URL`);
      if (a.icon !== undefined && a.icon !== '' && !isHttpUrl(a.icon) && !a.icon.startsWith('/')) throw badRequest(`[${i}].icon must be an http(s) URL or a path`);
    });
    return {
      externalActions: actions.map((a) => ({
        url: a.url,
        title: a.title,
        ...(a.description !== undefined ? { description: a.description } : {}),
        ...(a.icon !== undefined ? { icon: a.icon } : {}),
        ...(a.color !== undefined ? { color: a.color } : {}),
        ...(a.openExternally !== undefined ? { openExternally: a.openExternally } : {}),
      })),
    };
  },
  message: 'external actions update',
};
