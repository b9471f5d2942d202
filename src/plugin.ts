/**
 * The plugin contract. A plugin is a plain descriptor — importing it has no side effects —
 * and everything it needs at run time reaches it through the {@link PluginContext}.
 *
 * ```ts
 * export const hello = definePlugin({
 *   id: 'hello',
 *   version: '1.0.0',
 *   config: Type.Object({ greeting: Type.String({ default: 'hi' }) }),
 *   init(ctx) {
 *     ctx.routes.add({ method: 'GET', path: '/hello', handler: () => ({ text: ctx.config.greeting }) });
 *   },
 * });
 * ```
 */
import type { Command } from 'commander';
import type { Knex } from 'knex';
import type { Static, TSchema } from 'typebox';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { Dialect } from './db/dialect.js';
import type { Migration } from './db/migrations.js';
import type { EventBus } from './events.js';
import type { IdentityResolver } from './http/auth/strategy.js';
import type { RouteRegistrar } from './http/route.js';
import type { Logger, LogRing } from './logger.js';
import type { OwnerOutbox } from './outbox/outbox.js';
import type { PluginMetrics } from './observability/plugin-metrics.js';
import type { SecretRegistry } from './secrets.js';
import type { Leases } from './cluster/leases.js';
import type { WebSocketRegistrar } from './websocket.js';

/** Whether the kernel serves requests or only runs a CLI command. */
export type KernelMode = 'server' | 'cli';

/** What every lifecycle hook of a plugin receives. */
export interface PluginContext<Config = unknown> {
  /** The plugin's id. */
  readonly id: string;
  /** The plugin's version. */
  readonly version: string;
  /** The validated configuration, defaults applied. */
  readonly config: Config;
  /** The plugin's own DI container (a child of the kernel's root container). */
  readonly container: DependencyContainer;
  /** The shared Knex handle. Inside a transaction always use the transaction instead. */
  readonly db: Knex;
  /**
   * The handle for reads that need no transaction and may run beside writes (a credential
   * check on every request). On a SQLite file: a read-only connection of its own, which sees
   * every committed change but never waits for the writing connection (nor sees an open
   * transaction's changes). Elsewhere (PostgreSQL, in-memory SQLite, a host's own Knex):
   * the same handle as `db`. Never write through it.
   */
  readonly reads: Knex;
  /** Dialect helpers: booleans, dates, JSON, returned ids, constraint errors. */
  readonly dialect: Dialect;
  /** The plugin's table prefix, e.g. `anope_`. */
  readonly tablePrefix: string;
  /** Prefixes a table name: `table('account')` → `anope_account`. */
  table(name: string): string;
  /** The kernel's typed event bus. */
  readonly events: EventBus;
  /** The plugin's logger (a child with `plugin: <id>`). */
  readonly logger: Logger;
  /** Declares HTTP routes. */
  readonly routes: RouteRegistrar;
  /** Declares websocket paths. */
  readonly websockets: WebSocketRegistrar;
  /**
   * The plugin's own Prometheus metrics: counter, gauge and histogram factories named
   * `switchboard_<plugin>_<name>`, in the kernel's registry (a detached one when metrics are off).
   */
  readonly metrics: PluginMetrics;
  /** The kernel's recent log entries. */
  readonly logs: LogRing;
  /** Registers secrets so that they never appear in logs. */
  readonly secrets: SecretRegistry;
  /** The host's identity resolver, when it gave one. */
  readonly identity?: IdentityResolver;
  /** The durable outbound-webhook service. */
  readonly outbox: OwnerOutbox;
  /** Exactly-one ownership across instances sharing the database (leases and one-off claims). */
  readonly leases: Leases;
  /** True when events emitted with `{ cluster: true }` reach other instances (PostgreSQL). */
  readonly clustered: boolean;
  /** Server or CLI: in CLI mode `start`/`stop` hooks do not run and nothing is served. */
  readonly mode: KernelMode;
  /** A unique id of this kernel instance (host, process and a random part). */
  readonly instanceId: string;
  /** Aborted when the kernel begins to stop: end background loops on it. */
  readonly signal: AbortSignal;
  /** Makes a value available to plugins that depend on this one (the kernel's root container). */
  provide<T>(token: InjectionToken<T>, value: T): void;
  /** Registers cleanup run when the kernel stops, after the plugin's `stop` hook, last-in first-out. */
  onStop(fn: () => void | Promise<void>): void;
}

/** A CLI session of a plugin's subcommand: runs a function with a prepared kernel. */
export interface CliSession<Config = unknown> {
  /**
   * Prepares the kernel (config, migrations, init; no serving, no start hooks), runs `fn`
   * with the plugin's context, stops the kernel and sets the process exit code to `fn`'s
   * result (default 0).
   */
  run(fn: (ctx: PluginContext<Config>) => Promise<number | void> | number | void): Promise<void>;
  /** Writes a line to standard output. */
  out(line: string): void;
  /** Writes a line to standard error. */
  err(line: string): void;
  /**
   * Reads a secret from standard input (a hidden line on a terminal, after `prompt`; else
   * everything piped in, less one trailing newline), so it never shows on a command line.
   */
  readSecret(prompt: string): Promise<string>;
}

/** A plugin descriptor. */
export interface PluginDescriptor<S extends TSchema = TSchema> {
  /** Unique id, lower case (`[a-z][a-z0-9_-]*`); also the table prefix and log label. */
  readonly id: string;
  /** The plugin's version (semver). */
  readonly version: string;
  /** One line about the plugin. */
  readonly description?: string;
  /** The TypeBox schema of the plugin's config, with defaults. Unknown keys are rejected. */
  readonly config?: S;
  /** Ids of plugins that must start before this one. */
  readonly dependsOn?: readonly string[];
  /** Schema changes, run in name order into the plugin's own migration table. */
  readonly migrations?: readonly Migration[];
  /** Declares routes, websockets and services. Runs in dependency order after migrations. */
  init?(ctx: PluginContext<Static<S>>): void | Promise<void>;
  /** Starts background work (bots, workers, timers). Runs after every plugin's init. */
  start?(ctx: PluginContext<Static<S>>): void | Promise<void>;
  /** Stops what `start` started. Runs in reverse dependency order. */
  stop?(ctx: PluginContext<Static<S>>): void | Promise<void>;
  /** Adds subcommands to the plugin's CLI namespace (`switchboard <id> …`). */
  cli?(command: Command, session: CliSession<Static<S>>): void;
}

/** A plugin with its configuration and mount point, as given to the kernel. */
export interface PluginEntry<S extends TSchema = TSchema> {
  /** The plugin. */
  plugin: PluginDescriptor<S>;
  /** Raw configuration (validated against the plugin's schema). */
  config?: unknown;
  /** Mount prefix (e.g. `/talk`); omit to serve at the family's native paths. */
  mount?: string;
}

/**
 * Declares a plugin with its config type inferred from the schema. It returns the
 * descriptor unchanged; it exists for type inference.
 */
export function definePlugin<S extends TSchema>(descriptor: PluginDescriptor<S>): PluginDescriptor<S> {
  return descriptor;
}

/** DI tokens the kernel registers in every plugin container. */
export const Tokens = {
  /** The shared Knex instance. */
  Database: Symbol.for('switchboard.database'),
  /** The dialect helpers. */
  Dialect: Symbol.for('switchboard.dialect'),
  /** The event bus. */
  Events: Symbol.for('switchboard.events'),
  /** The plugin's logger (root logger in the root container). */
  Logger: Symbol.for('switchboard.logger'),
  /** The plugin's validated config. */
  Config: Symbol.for('switchboard.config'),
  /** The plugin's context. */
  Context: Symbol.for('switchboard.context'),
  /** The outbox. */
  Outbox: Symbol.for('switchboard.outbox'),
} as const;
