/**
 * The standalone server's configuration: a YAML or JSON file (from `SWITCHBOARD_CONFIG`,
 * else `./switchboard.config.yaml` if present, else defaults), with `PORT`, `HOST` and
 * `DATABASE_URL` from the environment taking precedence. Invalid configuration stops
 * startup with one line per problem, each naming the full key and what it expects.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ErrorCodes, SwitchboardError, Type, validateConfig, type Static } from '../../src/index.js';

const LogLevel = Type.Union(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].map((l) => Type.Literal(l)), { default: 'info' });

/** The schema of the standalone configuration file. */
export const StandaloneConfigSchema = Type.Object({
  server: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    },
    { default: {} },
  ),
  database: Type.Object({ url: Type.String({ default: 'sqlite:./data/switchboard.db' }) }, { default: {} }),
  log: Type.Object(
    {
      level: LogLevel,
      access: Type.Boolean({ default: true, description: 'One access log line per request (request id, method, URL with query values blanked, status, time).' }),
    },
    { default: {} },
  ),
  metrics: Type.Object(
    {
      token: Type.Optional(Type.String({ minLength: 16, description: 'When set, `/metrics` needs `Authorization: Bearer <token>`.' })),
    },
    { default: {} },
  ),
  users: Type.Array(
    Type.Object({
      id: Type.String({ minLength: 1 }),
      password: Type.String({ minLength: 1, description: 'Plain text, or a scrypt hash from `switchboard hash-password`.' }),
      displayName: Type.Optional(Type.String()),
      admin: Type.Boolean({ default: false }),
    }),
    { default: [] },
  ),
  webhooks: Type.Object(
    {
      allow: Type.Array(Type.String(), { default: [] }),
      deny: Type.Array(Type.String(), { default: [] }),
      timeoutMs: Type.Optional(Type.Integer({ minimum: 100 })),
      maxAttempts: Type.Optional(Type.Integer({ minimum: 1 })),
      concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
      claimMarginMs: Type.Optional(
        Type.Integer({ minimum: 0, description: 'How long a claim on a delivery outlives its attempt timeout before another instance may take it over (default 30000).' }),
      ),
    },
    { default: {} },
  ),
  admin: Type.Object(
    {
      token: Type.Optional(Type.String({ minLength: 16, description: 'Bearer token of the admin API (outbox list, show, replay, purge); the admin API is off without one.' })),
      prefix: Type.String({ default: '/_switchboard', pattern: '^/[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$', description: 'Where the admin API is mounted.' }),
    },
    { default: {} },
  ),
  plugins: Type.Record(Type.String(), Type.Object({ enabled: Type.Optional(Type.Boolean()), mount: Type.Optional(Type.String()) }, { additionalProperties: true }), { default: {} }),
});

/** The validated standalone configuration. */
export type StandaloneConfig = Static<typeof StandaloneConfigSchema>;

/** Where the configuration came from. */
export interface LoadedConfig {
  /** The validated configuration. */
  config: StandaloneConfig;
  /** The file it was read from, if any. */
  file?: string;
}

/** Reads, merges with the environment, and validates the standalone configuration. */
export function loadStandaloneConfig(env: NodeJS.ProcessEnv = process.env, explicitFile?: string): LoadedConfig {
  const file = explicitFile || env.SWITCHBOARD_CONFIG || (fs.existsSync('switchboard.config.yaml') ? 'switchboard.config.yaml' : undefined);
  let raw: Record<string, any> = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      raw = (path.extname(file) === '.json' ? JSON.parse(text) : YAML.parse(text)) ?? {};
    } catch (err) {
      const first = (err as Error).message.split('\n')[0];
      throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `${file}: not valid ${path.extname(file) === '.json' ? 'JSON' : 'YAML'}: ${first}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `${file}: must hold a mapping of keys to values`);
  }
  raw = structuredClone(raw);
  if (env.PORT) {
    if (!/^\d{1,5}$/.test(env.PORT)) throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `server.port (from the environment's PORT): must be an integer from 0 to 65535`);
    raw.server = { ...raw.server, port: Number(env.PORT) };
  }
  if (env.HOST) raw.server = { ...raw.server, host: env.HOST };
  if (env.DATABASE_URL) raw.database = { ...raw.database, url: env.DATABASE_URL };
  const config = validateConfig<StandaloneConfig>('', StandaloneConfigSchema, raw);
  return { config, file };
}
