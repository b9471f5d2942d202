/**
 * The `redball` plugin: redball's bot-manager API v1 (`/api/v1/bots`, `/bottypes`,
 * `/redditauths`), with bots that really run.
 *
 * A bot type names a JavaScript module in the bots directory (`botsDir`), or a built-in bot
 * (`heartbeat`); a bot is an instance of a type with its own settings and optional reddit
 * authorization. Starting a bot runs its module's run function in a worker thread until it is
 * stopped; its status and detailedState are kept in the database. Clients authenticate with
 * the `apikey` parameter: keys from the configuration or from `switchboard redball apikey
 * create`.
 *
 * ```yaml
 * plugins:
 *   redball:
 *     apiKeys: ["a-long-random-key-from-your-password-manager"]
 *     botsDir: ./bots
 * ```
 *
 * @module switchboard/plugins/redball
 */
import { definePlugin, Type, type PluginContext, type Static } from '../../src/index.js';
import { redballCli } from './cli.js';
import { migrations } from './migrations/index.js';
import { registerRoutes } from './routes.js';
import { BotRunner } from './runner/bot-runner.js';
import { BotModuleResolver } from './runner/module-resolver.js';
import { BotOwnership } from './runner/ownership.js';
import { ApiKeyStore } from './stores/api-key-store.js';
import { BotConfigStore } from './stores/bot-config-store.js';
import { BotListCache } from './stores/bot-list-cache.js';
import { SettingsCache } from './stores/settings-cache.js';
import { BotStore } from './stores/bot-store.js';
import { BotTypeStore } from './stores/bot-type-store.js';
import { RedditAuthStore } from './stores/reddit-auth-store.js';
import { RunStore } from './stores/run-store.js';

declare module '../../src/index.js' {
  interface SwitchboardEvents {
    /** A bot started running (its run function was called). */
    'redball.bot.started': {
      /** The bot's id. */
      botId: number;
      /** The bot's name. */
      name: string;
    };
    /** A bot stopped; `error` when its run function failed. */
    'redball.bot.stopped': {
      /** The bot's id. */
      botId: number;
      /** The bot's name. */
      name: string;
      /** Why its run function failed. */
      error?: string;
    };
    /** Bots or their runs changed (emitted cluster-wide): cached bot lists are dropped. */
    'redball.bots.changed': {
      /** When, ms since the epoch. */
      at: number;
    };
    /** A bot's settings changed, or a bot was created or deleted (emitted cluster-wide): cached settings are dropped. */
    'redball.settings.changed': {
      /** When, ms since the epoch. */
      at: number;
    };
    /** Asks the instance running a bot to stop it (emitted cluster-wide by a stop on another instance). */
    'redball.bot.stop-requested': {
      /** The bot to stop. */
      botId: number;
    };
    /** A stopping instance released its bots (emitted cluster-wide): the others take them over now. */
    'redball.bots.released': {
      /** The instance that released them. */
      instanceId: string;
    };
    /** API keys were created or revoked (emitted cluster-wide, also by the CLI): cached keys are dropped. */
    'redball.apikeys.changed': {
      /** When, ms since the epoch. */
      at: number;
    };
  }
}

/** The shortest API key accepted in the configuration. */
export const MIN_API_KEY_LENGTH = 16;

/** The plugin's configuration. */
export const RedballConfigSchema = Type.Object(
  {
    /** API keys accepted besides those created with the CLI. */
    apiKeys: Type.Array(Type.String({ minLength: MIN_API_KEY_LENGTH }), {
      default: [],
      description: `API keys accepted in the apikey parameter (at least ${MIN_API_KEY_LENGTH} characters each), besides those created with \`switchboard redball apikey create\`.`,
    }),
    /** The directory of bot modules. */
    botsDir: Type.String({ minLength: 1, default: './bots', description: 'The directory of bot modules, resolved against the working directory. It may be missing: the built-in bots still work.' }),
    /** Start the bots marked autoRun at start. */
    autoRun: Type.Boolean({ default: true, description: 'Start the bots marked autoRun when the server starts.' }),
    /** A bot's grace period after its stop signal, ms. */
    stopGraceMs: Type.Integer({
      minimum: 10,
      maximum: 60_000,
      default: 1000,
      description: "How long a bot has to return after its stop signal before its thread is terminated, ms. Keep it under the host's stop timeout.",
    }),
    /** How long loading a bot module may take, ms. */
    startTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000, description: 'How long loading a bot module may take, ms.' }),
    /** How long CLI-created API keys are cached, ms. */
    apiKeyCacheMs: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 1000,
      description:
        'How long the hashes of CLI-created API keys are cached, ms. On PostgreSQL every change is also announced to every instance, so a longer cache is safe there; on SQLite a key created or revoked by the CLI takes effect within this time.',
    }),
    /** Several instances: the lease of a running bot, ms. */
    leaseMs: Type.Integer({
      minimum: 500,
      maximum: 600_000,
      default: 15_000,
      description:
        'Several instances on one PostgreSQL: how long the lease of a running bot lasts without renewal, ms. It is renewed every fifth of this; if the instance running a bot dies, another instance takes the bot over once the lease has run out.',
    }),
  },
  { default: {} },
);

/** The validated configuration. */
export type RedballConfig = Static<typeof RedballConfigSchema>;

/** Creates the plugin's services in its container (one instance each) and returns them. */
function services(ctx: PluginContext<RedballConfig>) {
  const c = ctx.container;
  const cache = new BotListCache(ctx.events);
  c.registerInstance(BotListCache, cache);
  c.registerInstance(SettingsCache, new SettingsCache(ctx.events));
  const bots = c.resolve(BotStore);
  const types = c.resolve(BotTypeStore);
  const config = c.resolve(BotConfigStore);
  const auths = c.resolve(RedditAuthStore);
  const runs = c.resolve(RunStore);
  const keys = c.resolve(ApiKeyStore);
  const resolver = new BotModuleResolver(ctx.config.botsDir);
  const ownership = new BotOwnership(ctx, ctx.config.leaseMs);
  const runner = new BotRunner(
    { bots, types, config, auths, runs, resolver, logger: ctx.logger, events: ctx.events, ownership },
    { stopGraceMs: ctx.config.stopGraceMs, startTimeoutMs: ctx.config.startTimeoutMs },
  );
  c.registerInstance(BotStore, bots);
  c.registerInstance(BotTypeStore, types);
  c.registerInstance(BotConfigStore, config);
  c.registerInstance(RedditAuthStore, auths);
  c.registerInstance(RunStore, runs);
  c.registerInstance(ApiKeyStore, keys);
  c.registerInstance(BotModuleResolver, resolver);
  c.registerInstance(BotRunner, runner);
  return { bots, types, config, auths, runs, keys, resolver, runner, cache };
}

/** The redball plugin descriptor. */
export const redballPlugin = definePlugin({
  id: 'redball',
  version: '1.0.0',
  description: "redball's bot-manager API v1: bots that run, bot types, settings, reddit authorizations",
  config: RedballConfigSchema,
  migrations,
  async init(ctx) {
    for (const key of ctx.config.apiKeys) ctx.secrets.add(key);
    const s = services(ctx);
    s.keys.setConfigured(ctx.config.apiKeys);
    s.keys.setCacheMs(ctx.config.apiKeyCacheMs);
    await s.auths.registerSecrets();
    registerRoutes(ctx, s);
    ctx.metrics.gauge({
      name: 'bots',
      help: 'Bots by state (running, stopped, failed: stopped with an error), read from the database at scrape.',
      labelNames: ['state'],
      collect: async (gauge) => {
        const counts = await s.runs.countByState();
        for (const state of ['running', 'stopped', 'failed'] as const) gauge.set({ state }, counts[state]);
      },
    });
  },
  async start(ctx) {
    ctx.container.resolve(BotListCache).listen();
    ctx.container.resolve(SettingsCache).listen();
    ctx.container.resolve(ApiKeyStore).listen();
    await ctx.container.resolve(BotRunner).begin(ctx.config.autoRun);
  },
  async stop(ctx) {
    try {
      await ctx.container.resolve(BotRunner).stopAll();
    } finally {
      ctx.container.resolve(BotListCache).close();
      ctx.container.resolve(SettingsCache).close();
      ctx.container.resolve(ApiKeyStore).close();
    }
  },
  cli: redballCli,
});

export default redballPlugin;

export { API_BASE, registerRoutes, type RedballServices } from './routes.js';
export { BotRunner, type StartResult, type RunnerOptions } from './runner/bot-runner.js';
export { BotModuleResolver, moduleNameProblem, type ResolvedModule } from './runner/module-resolver.js';
export { BotOwnership } from './runner/ownership.js';
export { BUILTIN_BOT_TYPES, type BuiltinBot } from './runner/builtin-bots.js';
export type { BotRunContext, BotRunFunction, BotLogger, BotRedditAuth, DetailedState } from './runner/bot-api.js';
export { ApiKeyStore, API_KEY_CACHE_MS, type ApiKeyInfo } from './stores/api-key-store.js';
export { BotStore, type BotView, type BotRecord, type NewBot } from './stores/bot-store.js';
export { BotTypeStore, botTypeName, type BotType } from './stores/bot-type-store.js';
export { BotConfigStore, type SettingView, type SettingsByCategory, type WriteMode, type WriteResult } from './stores/bot-config-store.js';
export { RedditAuthStore, parseScopes, type RedditAuth, type RedditAuthInput } from './stores/reddit-auth-store.js';
export { RunStore, type RunRow, type Fence } from './stores/run-store.js';
export { BotListCache } from './stores/bot-list-cache.js';
export { ChangeTrackedCache, type ChangeEvent } from './stores/change-tracked-cache.js';
export { SettingsCache } from './stores/settings-cache.js';
export { InvalidInput, NotFound } from './errors.js';
export { checkSettingsDocument, SETTING_TYPES, type Checked, type SettingInput, type SettingType } from './settings.js';
