/**
 * The `opsdroid` plugin: a small chat-ops bot runtime with opsdroid's REST API and command
 * center, wire-compatible with opsdroid's web server and its websocket connector.
 *
 * ```ts
 * import { createOpsdroidPlugin, defineSkill, matchRegex } from 'switchboard/plugins/opsdroid';
 *
 * const ping = defineSkill({ name: 'ping', matchers: [matchRegex('ping', (_bot, _config, m) => m.respond('pong'))] });
 * const kernel = new Kernel({
 *   app,
 *   database: 'sqlite:./data/bot.db',
 *   plugins: [{ plugin: createOpsdroidPlugin({ skills: [ping] }), config: { skills: { hello: {}, ping: {} } } }],
 * });
 * ```
 *
 * `opsdroidPlugin` is the plugin with the bundled skills only (`dance`, `hello`,
 * `loudnoises`, `seen`), as the standalone server runs it.
 *
 * @module switchboard/plugins/opsdroid
 */
import { definePlugin, type PluginContext, type PluginDescriptor, type TSchema, type CliSession } from '../../src/index.js';
import { SystemClock, type Clock } from './clock.js';
import { opsdroidCli } from './cli.js';
import { OpsdroidConfigSchema, type OpsdroidConfig } from './config.js';
import type { ConnectorKind } from './connectors/connector.js';
import { shellConnector } from './connectors/shell.js';
import { websocketConnector } from './connectors/websocket.js';
import { sqliteDatabase, type DatabaseKind } from './databases.js';
import { MemoryStore } from './memory-store.js';
import { migrations } from './migrations/001_init.js';
import { ModuleConfigStore } from './module-config-store.js';
import { Opsdroid } from './opsdroid.js';
import { declareRoutes } from './routes.js';
import type { Skill } from './skill.js';
import { bundledSkills } from './skills/index.js';
import { SocketRequestStore } from './socket-request-store.js';
import { StatsStore } from './stats-store.js';
import { OPSDROID_RUNTIME } from './tokens.js';

export { OpsdroidConfigSchema, type OpsdroidConfig, type WebConfig, type CorsConfig, type CommandCenterConfig, type ModuleSection } from './config.js';
export { SystemClock, ManualClock, type Clock } from './clock.js';
export { CronSchedule, checkCrontab } from './cron.js';
export {
  defineSkill,
  matchRegex,
  matchAlways,
  matchWebhook,
  matchCrontab,
  type Skill,
  type Bot,
  type SkillConfig,
  type SkillMemory,
  type Matcher,
  type RegexMatcher,
  type AlwaysMatcher,
  type WebhookMatcher,
  type CrontabMatcher,
  type RegexOptions,
  type MessageHandler,
  type WebhookHandler,
  type CronHandler,
} from './skill.js';
export { Message, WebhookRequest, WebhookResponse, MAX_MESSAGE_TEXT, MAX_MESSAGE_USER, type CronTick, type OutgoingMessage, type MessageInput, type Entity, type ResponseSink } from './events.js';
export { compileRegex, pythonToJsRegex, REGEX_SCORE_FACTOR, type CompiledRegex, type RegexCondition } from './regex.js';
export { type Connector, type ConnectorEnv, type ConnectorKind, type Delivery } from './connectors/connector.js';
export { websocketConnector, WebsocketConnector, WebsocketConfigSchema, parseFrame, type SocketClaim, type WebsocketFrame } from './connectors/websocket.js';
export { shellConnector, ShellConnector, ShellConfigSchema, type ShellOptions } from './connectors/shell.js';
export { sqliteDatabase, SqliteConfigSchema, Memory, type Database, type DatabaseEnv, type DatabaseKind } from './databases.js';
export { bundledSkills, helloSkill, seenSkill, danceSkill, loudnoisesSkill, GREETINGS, FAREWELLS, DANCE_MOVES, LOUD_NOISES, seenKey, humanAgo } from './skills/index.js';
export { Opsdroid, ModuleNotFoundError, ModuleConfigError, type OpsdroidRuntimeOptions, type FoundWebhook, type StatsBody, type StatsMessages, type StatsModules, type OpsdroidParsedEvent, type OpsdroidModuleChangedEvent } from './opsdroid.js';
export { MODULE_TYPES, MODULE_TYPE_LABEL, EXCLUDED_CONFIG_KEYS, BUILTIN_PARSERS, moduleView, scrub, type ModuleType, type ModuleConfig } from './modules.js';
export { parsePatchPayload, PatchPayloadError, PATCHABLE_TYPES, pythonRepr, pythonStr, pythonTypeName, type PatchPayload } from './patch-payload.js';
export { aiohttpResponder, reasonError, OPSDROID_REASON } from './responder.js';
export { corsHook, CORS_ALLOW_METHODS } from './cors.js';
export { StatsStore, OTHERS_REFRESH_MS, type StatsCounters } from './stats-store.js';
export { ModuleConfigStore, type ModuleOverride } from './module-config-store.js';
export { MemoryStore } from './memory-store.js';
export { SocketRequestStore } from './socket-request-store.js';
export { migrations } from './migrations/001_init.js';
export { OPSDROID_RUNTIME } from './tokens.js';

/** The plugin's version (reported by `/stats/`). */
export const OPSDROID_PLUGIN_VERSION = '0.1.0';

/** What a host can give the plugin besides its configuration. */
export interface OpsdroidPluginOptions {
  /** Skills besides the bundled ones (a skill with a bundled one's name replaces it). */
  skills?: readonly Skill[];
  /** Include the bundled skills (`dance`, `hello`, `loudnoises`, `seen`); default true. */
  bundledSkills?: boolean;
  /** Connector kinds besides `websocket` and `shell` (same name: replaces), e.g. `shellConnector({ input, output })`. */
  connectors?: readonly ConnectorKind[];
  /** Database kinds besides `sqlite` (same name: replaces). */
  databases?: readonly DatabaseKind[];
  /** The clock for crontab skills and socket timeouts (default the system clock). */
  clock?: Clock;
}

function byName<T extends { name: string }>(...lists: ReadonlyArray<readonly T[]>): Map<string, T> {
  const map = new Map<string, T>();
  for (const list of lists) for (const item of list) map.set(item.name, item);
  return map;
}

function runtimeOf(ctx: PluginContext<unknown>): Opsdroid {
  return ctx.container.resolve<Opsdroid>(OPSDROID_RUNTIME);
}

/** Builds the opsdroid plugin with host-provided skills, connectors, databases or clock. */
export function createOpsdroidPlugin(options: OpsdroidPluginOptions = {}): PluginDescriptor<TSchema> {
  const plugin: PluginDescriptor<TSchema> = definePlugin<TSchema>({
    id: 'opsdroid',
    version: OPSDROID_PLUGIN_VERSION,
    description: 'opsdroid: a chat-ops bot runtime with opsdroid\'s REST API, command center and websocket connector',
    config: OpsdroidConfigSchema,
    migrations,
    init(untyped) {
      const ctx = untyped as PluginContext<OpsdroidConfig>;
      const web = ctx.config.web;
      const center = web['command-center'];
      if (center.enabled && !center.token) throw new Error('Command center is enabled, but no authorization token is set.');
      if (ctx.config.timezone) {
        try {
          new Intl.DateTimeFormat('en', { timeZone: ctx.config.timezone });
        } catch {
          throw new Error(`Unknown timezone '${ctx.config.timezone}'`);
        }
      }
      ctx.secrets.add(center.token);
      ctx.secrets.add(web['webhook-token']);
      const stats = ctx.container.resolve(StatsStore);
      const overrides = ctx.container.resolve(ModuleConfigStore);
      const memory = ctx.container.resolve(MemoryStore);
      const sockets = ctx.container.resolve(SocketRequestStore);
      ctx.container.registerInstance(StatsStore, stats);
      ctx.container.registerInstance(ModuleConfigStore, overrides);
      ctx.container.registerInstance(MemoryStore, memory);
      ctx.container.registerInstance(SocketRequestStore, sockets);
      const runtime = new Opsdroid({
        ctx,
        clock: options.clock ?? new SystemClock(),
        connectors: byName<ConnectorKind>([websocketConnector, shellConnector()], options.connectors ?? []),
        databases: byName<DatabaseKind>([sqliteDatabase], options.databases ?? []),
        skills: byName<Skill>(options.bundledSkills === false ? [] : bundledSkills, options.skills ?? []),
        stats,
        overrides,
        memory,
        sockets,
      });
      runtime.checkConfig();
      ctx.container.registerInstance(OPSDROID_RUNTIME, runtime);
      ctx.provide(OPSDROID_RUNTIME, runtime);
      declareRoutes(ctx, runtime);
    },
    async start(ctx) {
      await runtimeOf(ctx).start();
    },
    async stop(ctx) {
      await runtimeOf(ctx).stop();
    },
    cli: (command, session) => opsdroidCli(command, session as CliSession<OpsdroidConfig>),
  });
  return plugin;
}

/** The opsdroid plugin with the bundled skills and the system clock (what the standalone server runs). */
export const opsdroidPlugin = createOpsdroidPlugin();

export default opsdroidPlugin;
