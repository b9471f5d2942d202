/**
 * The plugin's configuration: opsdroid's own `configuration.yaml`, under `plugins.opsdroid`.
 *
 * ```yaml
 * plugins:
 *   opsdroid:
 *     web:
 *       webhook-token: "a long random token"
 *       command-center: { enabled: true, token: "another long token", excluded-keys: [api-key] }
 *       cors: { allow-all: true }
 *     connectors:
 *       websocket: { bot-name: mybot, max-connections: 10, connection-timeout: 10 }
 *     skills: { dance: {}, hello: {}, loudnoises: {}, seen: {} }
 *     databases: { sqlite: {} }
 *     parsers: { regex: {}, crontab: {} }
 * ```
 *
 * The module sections are maps from a module's name to its configuration, as in opsdroid's
 * configuration since 0.17 (a module may be written with an empty value: `hello:`).
 */
import { Type, type Static, type TSchema } from '../../src/index.js';
import { headerTokenSchema } from './header-token.js';

/** A module section: name → configuration (or nothing). */
function moduleSection(description: string, defaults: Record<string, Record<string, unknown>>) {
  return Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]), {
    default: defaults,
    description,
  });
}

const webSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ description: 'Accepted for compatibility; the host server decides where it listens.' })),
    port: Type.Optional(Type.Integer({ description: 'Accepted for compatibility; the host server decides where it listens.' })),
    ssl: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Accepted for compatibility; TLS is the host\'s.' })),
    'base-url': Type.Optional(Type.String({ description: 'Accepted for compatibility.' })),
    'webhook-token': Type.Optional(headerTokenSchema('When set, webhook skills need `Authorization: Bearer <token>` (the token is everything after `Bearer `, spaces included).')),
    'command-center': Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Serve the command center (module listing and PATCH).' }),
        token: Type.Optional(headerTokenSchema('Required when enabled: the exact `Authorization` header value.')),
        'excluded-keys': Type.Array(Type.String(), { default: [], description: 'More config keys to hide from the command center.' }),
      },
      { default: {} },
    ),
    cors: Type.Object(
      {
        'allow-all': Type.Boolean({ default: true, description: 'Allow every origin (`Access-Control-Allow-Origin: *`).' }),
        origins: Type.Array(Type.String(), { default: ['*'], description: 'Allowed origins when `allow-all` is false (`*`: any).' }),
        'allow-headers': Type.Array(Type.String(), { default: [], description: 'Headers allowed besides the defaults.' }),
      },
      { default: {} },
    ),
    disable_web_index_handler_in_root: Type.Boolean({ default: false, description: 'Do not serve `GET /`.' }),
  },
  { default: {} },
);

const configSchema = Type.Object({
  web: webSchema,
  timezone: Type.Optional(Type.String({ minLength: 1, description: 'Time zone of crontab skills without their own (default UTC).' })),
  'welcome-message': Type.Optional(Type.Boolean({ description: 'Log opsdroid\'s welcome message when the bot starts.' })),
  logging: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Accepted for compatibility; logging is the host\'s.' })),
  lang: Type.Optional(Type.String({ description: 'Accepted for compatibility; the bot speaks English.' })),
  'module-path': Type.Optional(Type.String({ description: 'Accepted for compatibility; modules are provided by the host, not installed.' })),
  connectors: moduleSection('Connectors by name (websocket, shell).', { websocket: {} }),
  skills: moduleSection('Skills by name (bundled: dance, hello, loudnoises, seen; plus the host\'s).', { dance: {}, hello: {}, loudnoises: {}, seen: {} }),
  databases: moduleSection('Databases by name (sqlite).', { sqlite: {} }),
  parsers: moduleSection('Parsers by name (regex, crontab).', { regex: {}, crontab: {} }),
});

/** The plugin's configuration schema (TypeBox, with defaults). */
export const OpsdroidConfigSchema: TSchema = configSchema;

/** A module section: module name → its configuration (`null` for a module written without one). */
export type ModuleSection = Record<string, Record<string, unknown> | null>;

/** The `web.command-center` settings. */
export interface CommandCenterConfig {
  /** Serve the command center. */
  enabled: boolean;
  /** The exact `Authorization` header value it requires. */
  token?: string;
  /** More keys to hide from its answers. */
  'excluded-keys': string[];
}

/** The `web.cors` settings. */
export interface CorsConfig {
  /** Allow every origin. */
  'allow-all': boolean;
  /** Allowed origins when `allow-all` is false (`*`: any). */
  origins: string[];
  /** Headers allowed besides the defaults. */
  'allow-headers': string[];
}

/** The `web` section. */
export interface WebConfig {
  /** Accepted for compatibility (the host decides where it listens). */
  host?: string;
  /** Accepted for compatibility. */
  port?: number;
  /** Accepted for compatibility. */
  ssl?: Record<string, unknown>;
  /** Accepted for compatibility. */
  'base-url'?: string;
  /** When set, webhook skills need `Authorization: Bearer <token>`. */
  'webhook-token'?: string;
  /** The command center. */
  'command-center': CommandCenterConfig;
  /** CORS. */
  cors: CorsConfig;
  /** Do not serve `GET /`. */
  disable_web_index_handler_in_root: boolean;
}

/** The validated configuration (defaults applied). */
export interface OpsdroidConfig {
  /** The web server's settings. */
  web: WebConfig;
  /** Time zone of crontab skills without their own. */
  timezone?: string;
  /** Log opsdroid's welcome message at start. */
  'welcome-message'?: boolean;
  /** Accepted for compatibility (logging is the host's). */
  logging?: Record<string, unknown>;
  /** Accepted for compatibility. */
  lang?: string;
  /** Accepted for compatibility (modules are provided by the host). */
  'module-path'?: string;
  /** Connectors by name. */
  connectors: ModuleSection;
  /** Skills by name. */
  skills: ModuleSection;
  /** Databases by name. */
  databases: ModuleSection;
  /** Parsers by name. */
  parsers: ModuleSection;
}

// The hand-written type and the schema's must stay the same.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameType: Same<OpsdroidConfig, Static<typeof configSchema>> = true;
void sameType;
