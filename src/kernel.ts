/**
 * The kernel: the whole lifecycle in one file.
 *
 * ```
 * created ──start()──▶ starting ──▶ running ──stop()──▶ stopping ──▶ stopped
 *                         │ (a plugin fails: everything started is stopped again)
 *                         └──────────────▶ failed
 * ```
 *
 * `start()`:
 *  1. checks the plugin graph (duplicate ids, missing dependencies, cycles) and orders it;
 *  2. validates every plugin's config (defaults applied, unknown keys rejected);
 *  3. opens the database and runs the kernel's and then each plugin's migrations;
 *  4. runs `init` hooks in dependency order (routes, websockets, services are declared);
 *  5. compiles the routes (a method+path claimed twice is an error) and mounts them;
 *  6. runs `start` hooks in dependency order, starts the outbox worker, opens the gate.
 *
 * `stop()` is idempotent: it closes the gate (503), waits for in-flight requests, stops the
 * outbox worker, runs `stop` hooks and cleanups in reverse order, closes websockets, and
 * destroys the database only if the kernel opened it. The kernel installs no signal handlers.
 */
import 'reflect-metadata';
import crypto from 'node:crypto';
import os from 'node:os';
import type { Server } from 'node:http';
import type { Express, Router, RequestHandler } from 'express';
import type { Knex } from 'knex';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import { validatePluginConfig } from './config.js';
import { openDatabase, type DatabaseOption } from './db/database.js';
import { dialectOf, type Dialect } from './db/dialect.js';
import { runMigrations } from './db/migrations.js';
import { ErrorCodes, isSwitchboardError, SwitchboardError } from './errors.js';
import { EventBus } from './events.js';
import { orderPlugins } from './graph.js';
import type { IdentityResolver } from './http/auth/strategy.js';
import { Dispatcher, type PluginHttp } from './http/dispatcher.js';
import { buildOpenApi, type OpenApiDocument, type OpenApiOptions } from './http/openapi.js';
import { createLogging, type Logger, type LoggerOptions, type LogRing } from './logger.js';
import { kernelMigrations } from './db/kernel-migrations.js';
import { LeaseService } from './cluster/leases.js';
import { PgEventBridge } from './cluster/pg-bridge.js';
import { Outbox, type OutboxOptions } from './outbox/outbox.js';
import { accessLog } from './observability/access-log.js';
import { KernelMetrics, type MetricsOptions } from './observability/metrics.js';
import { readOutboxBacklog } from './observability/outbox-backlog.js';
import { PluginMetrics } from './observability/plugin-metrics.js';
import { withRequestContext } from './observability/request-context.js';
import { Registry } from 'prom-client';
import { createAdminRouter, DEFAULT_ADMIN_PREFIX, type AdminOptions } from './outbox/admin-api.js';
import { OutboxOperator } from './outbox/operator.js';
import { Tokens, type KernelMode, type PluginContext, type PluginDescriptor, type PluginEntry } from './plugin.js';
import { SecretRegistry } from './secrets.js';
import { WebSocketHub } from './websocket.js';

/** The kernel's lifecycle states. */
export type KernelState = 'created' | 'starting' | 'prepared' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Options of {@link Kernel}. */
export interface KernelOptions {
  /** The host Express app or router; the kernel mounts its dispatcher on it at `basePath`. */
  app?: Express | Router;
  /** Where the kernel is mounted in the host (default `/`). */
  basePath?: string;
  /** The database: a URL, a Knex config, or a Knex instance the host owns. */
  database: DatabaseOption;
  /** A pino logger, or options for the kernel's own. */
  logger?: Logger | LoggerOptions;
  /** The plugins, each bare or with its config and mount prefix. */
  plugins: ReadonlyArray<PluginDescriptor<any> | PluginEntry<any>>;
  /** The host's identity resolver (who is calling?), for families that use host identity. */
  identity?: IdentityResolver;
  /** Outbound webhook delivery settings. */
  outbox?: OutboxOptions;
  /**
   * The admin API (the outbox's list, show, replay and purge over HTTP): mounted on `app`
   * under `admin.prefix` (default `/_switchboard`) only when `admin.token` is set.
   */
  admin?: AdminOptions;
  /** How long `stop()` waits for in-flight work before giving up on it (default 5000 ms). */
  stopTimeoutMs?: number;
  /** A prefix for every plugin's table prefix (default none: tables are `<plugin>_<name>`). */
  tablePrefix?: string;
  /** An id for this instance (default host, pid and a random part). */
  instanceId?: string;
  /** Version reported in the OpenAPI document. */
  version?: string;
  /**
   * Bridge events emitted with `{ cluster: true }` to every instance sharing the database
   * (PostgreSQL LISTEN/NOTIFY). Default: on for PostgreSQL; SQLite is single-instance.
   */
  cluster?: boolean;
  /**
   * Prometheus metrics (see docs/operations.md): a registry of the kernel's own by default,
   * or the host's; `false` turns them off (`kernel.metrics()` then answers 404).
   */
  metrics?: MetricsOptions | false;
  /**
   * Write an access log line (pino-http, no headers, query values blanked) for every
   * request through the kernel's handler. Default off; the standalone server turns it on.
   */
  accessLog?: boolean;
}

/** A registered plugin with everything the kernel knows about it. */
interface PluginRecord {
  descriptor: PluginDescriptor<any>;
  rawConfig: unknown;
  mount: string;
  config?: unknown;
  context?: PluginContext<unknown>;
  cleanups: Array<() => void | Promise<void>>;
  initialized: boolean;
  started: boolean;
}

const PLUGIN_ID = /^[a-z][a-z0-9_-]*$/;
const RESERVED_IDS = new Set(['swb', 'kernel']);
/** The prefix of the kernel's own tables. */
export const KERNEL_TABLE_PREFIX = 'swb_';

function normalizeMount(mount: string | undefined): string {
  if (!mount || mount === '/') return '';
  const withSlash = mount.startsWith('/') ? mount : `/${mount}`;
  return withSlash.replace(/\/+$/, '');
}

function isEntry(p: PluginDescriptor<any> | PluginEntry<any>): p is PluginEntry<any> {
  return typeof (p as PluginEntry).plugin === 'object' && (p as PluginEntry).plugin !== null;
}

/** The Switchboard kernel. */
export class Kernel {
  /** The kernel's typed event bus. */
  readonly events: EventBus;
  /** The kernel's root logger. */
  readonly logger: Logger;
  /** Recent log entries (every level from info up). */
  readonly logs: LogRing;
  /** The access log's logger (its lines stay out of {@link Kernel.logs}). */
  private readonly accessLogger: Logger;
  /** Secrets scrubbed from every log line. */
  readonly secrets = new SecretRegistry();
  /** The kernel's root DI container (a fresh child of tsyringe's, never the global one itself). */
  readonly container: DependencyContainer;
  /** This instance's id. */
  readonly instanceId: string;

  private readonly options: KernelOptions;
  private readonly records: PluginRecord[];
  private readonly dispatcher: Dispatcher;
  private readonly hub: WebSocketHub;
  private readonly metricSet?: KernelMetrics;
  private readonly entry: RequestHandler;
  private readonly abort = new AbortController();
  private current: KernelState = 'created';
  private knexHandle?: Knex;
  private readsHandle?: Knex;
  private ownsDatabase = false;
  private outboxService?: Outbox;
  private operatorService?: OutboxOperator;
  private adminEntry?: RequestHandler;
  private leaseService?: LeaseService;
  private bridge?: PgEventBridge;
  private ordered: PluginRecord[] = [];
  private startPromise?: Promise<void>;
  private stopPromise?: Promise<void>;
  private mode: KernelMode = 'server';

  /** @param options - see {@link KernelOptions} */
  constructor(options: KernelOptions) {
    this.options = options;
    const logging = createLogging(options.logger, this.secrets);
    this.logger = logging.logger;
    this.logs = logging.ring;
    this.accessLogger = logging.accessLogger;
    this.events = new EventBus(this.logger);
    this.container = globalContainer.createChildContainer();
    this.instanceId = options.instanceId ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this.records = options.plugins.map((p) => {
      const entry = isEntry(p) ? p : { plugin: p };
      return { descriptor: entry.plugin, rawConfig: entry.config, mount: normalizeMount(entry.mount), cleanups: [], initialized: false, started: false };
    });
    this.hub = new WebSocketHub(() => this.current === 'running', normalizeMount(options.basePath), this.logger);
    if (options.metrics !== false) {
      this.metricSet = new KernelMetrics(
        options.metrics ?? {},
        {
          plugins: () => this.records.map((r) => ({ id: r.descriptor.id, up: r.started && this.current === 'running' })),
          websockets: () => this.hub.connectionsByPlugin(),
          outbox: async () => (this.knexHandle && this.current !== 'stopped' && this.current !== 'failed' ? readOutboxBacklog(this.knexHandle, `${KERNEL_TABLE_PREFIX}outbox`, this.records.map((r) => r.descriptor.id)) : undefined),
        },
        this.logger.child({ component: 'metrics' }),
      );
    }
    const metricSet = this.metricSet;
    this.dispatcher = new Dispatcher(() => this.current === 'running', { identity: options.identity }, metricSet ? { observer: (plugin, route) => metricSet.route(plugin, route) } : {});
    // Every request through the kernel gets its request id (and, when on, its access log line).
    const dispatch = this.dispatcher.handle;
    const log = options.accessLog ? accessLog(this.accessLogger) : undefined;
    const observed = (handler: RequestHandler): RequestHandler =>
      log
        ? (req, res, next) => withRequestContext(req, res, () => log(req, res, () => handler(req, res, next)))
        : (req, res, next) => withRequestContext(req, res, () => handler(req, res, next));
    this.entry = observed(dispatch);
    if (options.admin?.token) {
      if (normalizeMount(options.admin.prefix ?? DEFAULT_ADMIN_PREFIX) === '') {
        throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, 'admin.prefix: must be a path below / (e.g. /_switchboard)');
      }
      this.secrets.add(options.admin.token);
      const router = createAdminRouter(options.admin.token, () => (this.current === 'running' || this.current === 'prepared' ? this.operatorService : undefined), this.logger.child({ component: 'admin' }));
      // The admin API gets request ids and the access log like every plugin route.
      this.adminEntry = observed(router);
    }
    if (options.app) {
      const base = normalizeMount(options.basePath);
      if (this.adminEntry) (options.app as Router).use(`${base}${normalizeMount(options.admin?.prefix ?? DEFAULT_ADMIN_PREFIX)}`, this.adminEntry);
      if (base) (options.app as Router).use(base, this.handler);
      else options.app.use(this.handler);
    }
  }

  /** The current lifecycle state. */
  get state(): KernelState {
    return this.current;
  }

  /**
   * The Express middleware serving every plugin route. The kernel mounts it on `app` when
   * one was given; a host can also mount it itself.
   */
  get handler(): RequestHandler {
    return this.entry;
  }

  /** The registry holding the kernel's metrics (undefined when metrics are off). */
  get metricsRegistry(): Registry | undefined {
    return this.metricSet?.registry;
  }

  /**
   * An Express handler serving the kernel's metrics in Prometheus' text format (404 when
   * metrics are off). Mount it where your scraper looks and guard it as you see fit; the
   * standalone server serves it at `/metrics` behind `metrics.token`.
   */
  metrics(): RequestHandler {
    if (!this.metricSet) return (_req, res) => void res.status(404).type('text/plain').end('Metrics are off');
    return this.metricSet.handler();
  }

  /** The shared Knex handle (after start). */
  get db(): Knex {
    if (!this.knexHandle) throw new SwitchboardError(ErrorCodes.KERNEL_STATE, 'The database is opened by start()');
    return this.knexHandle;
  }

  /** Exactly-one ownership across instances (after start). */
  get leases(): LeaseService {
    if (!this.leaseService) throw new SwitchboardError(ErrorCodes.KERNEL_STATE, 'Leases exist after start()');
    return this.leaseService;
  }

  /** The outbound webhook service (after start). */
  get outbox(): Outbox {
    if (!this.outboxService) throw new SwitchboardError(ErrorCodes.KERNEL_STATE, 'The outbox exists after start()');
    return this.outboxService;
  }

  /** The outbox as operators see it: list, show, replay, purge (after start or prepare). */
  get outboxOperator(): OutboxOperator {
    if (!this.operatorService) throw new SwitchboardError(ErrorCodes.KERNEL_STATE, 'The outbox exists after start()');
    return this.operatorService;
  }

  /**
   * The admin API's handler when `admin.token` is set, else undefined. It gives requests ids
   * and, when on, access log lines like the plugin routes. The kernel mounts it on `app`
   * itself; a host without `app` can mount it where it likes.
   */
  get adminHandler(): RequestHandler | undefined {
    return this.adminEntry;
  }

  /** Requests being handled right now. */
  get activeRequests(): number {
    return this.dispatcher.activeRequests;
  }

  /** Takes websocket upgrades on the host's HTTP server; returns a function that stops it. */
  attach(server: Server): () => void {
    return this.hub.attach(server);
  }

  /** The context of a plugin (after `start()` or `prepare()`), for CLI commands and tests. */
  context<C = unknown>(pluginId: string): PluginContext<C> {
    const record = this.records.find((r) => r.descriptor.id === pluginId);
    if (!record?.context) throw new SwitchboardError(ErrorCodes.KERNEL_STATE, `Plugin '${pluginId}' is not initialized`);
    return record.context as PluginContext<C>;
  }

  /** Every plugin's HTTP surface: routes with their schemas (for tooling such as fuzzers). */
  httpSurfaces(): readonly PluginHttp[] {
    return this.dispatcher.surfaces();
  }

  /** The merged OpenAPI 3.1 document of every plugin's routes. */
  openapi(options: OpenApiOptions = {}): OpenApiDocument {
    const doc = buildOpenApi(this.dispatcher.surfaces(), { version: this.options.version, ...options });
    const base = normalizeMount(this.options.basePath);
    if (!base) return doc;
    return { ...doc, paths: Object.fromEntries(Object.entries(doc.paths).map(([p, v]) => [`${base}${p}`, v])) };
  }

  /**
   * Prepares without serving: checks the graph and configs, migrates, runs `init`. Used by
   * CLI commands; `start()` continues from here.
   */
  async prepare(mode: KernelMode = 'cli'): Promise<void> {
    if (this.current !== 'created') {
      throw new SwitchboardError(ErrorCodes.KERNEL_STATE, `Cannot prepare a kernel that is ${this.current}`);
    }
    this.mode = mode;
    this.current = 'starting';
    try {
      await this.prepareSteps();
      this.current = 'prepared';
    } catch (err) {
      await this.rollback();
      throw err;
    }
  }

  /** Starts the kernel. See the file comment for the steps. */
  start(): Promise<void> {
    this.startPromise ??= this.startSteps();
    return this.startPromise;
  }

  private async startSteps(): Promise<void> {
    if (this.current === 'created') await this.prepare('server');
    else if (this.current !== 'prepared') {
      throw new SwitchboardError(ErrorCodes.KERNEL_STATE, `Cannot start a kernel that is ${this.current}`);
    }
    this.mode = 'server';
    this.current = 'starting';
    try {
      await this.bridge?.start();
      for (const record of this.ordered) {
        if (record.descriptor.start) {
          try {
            await record.descriptor.start(record.context!);
          } catch (err) {
            throw this.startupError(record, err);
          }
        }
        record.started = true;
      }
      await this.outboxService!.startWorker();
    } catch (err) {
      await this.rollback();
      throw err;
    }
    this.current = 'running';
    this.events.emit('kernel.started', { at: new Date() });
    this.logger.info({ plugins: this.ordered.map((r) => r.descriptor.id) }, 'switchboard started');
  }

  private async prepareSteps(): Promise<void> {
    for (const r of this.records) this.checkDescriptor(r.descriptor);
    this.ordered = orderPlugins(this.records.map((r) => ({ ...r, id: r.descriptor.id, dependsOn: r.descriptor.dependsOn }))).map(
      (n) => this.records.find((r) => r.descriptor.id === n.id)!,
    );
    // Every plugin's config is checked before the first error is thrown, so one error lists
    // every problem (one line each).
    const invalid: SwitchboardError[] = [];
    for (const record of this.ordered) {
      try {
        record.config = validatePluginConfig(record.descriptor.id, record.descriptor.config, record.rawConfig);
      } catch (err) {
        if (!isSwitchboardError(err, ErrorCodes.INVALID_CONFIG)) throw err;
        invalid.push(err);
      }
    }
    if (invalid.length === 1) throw invalid[0];
    if (invalid.length > 1) throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, invalid.map((e) => e.message).join('\n'));
    const opened = openDatabase(this.options.database);
    this.knexHandle = opened.knex;
    this.readsHandle = opened.reads;
    this.ownsDatabase = opened.owned;
    const dialect = dialectOf(opened.knex);
    this.container.registerInstance(Tokens.Database, opened.knex);
    this.container.registerInstance(Tokens.Dialect, dialect);
    this.container.registerInstance(Tokens.Events, this.events);
    this.container.registerInstance(Tokens.Logger, this.logger);
    await runMigrations(opened.knex, KERNEL_TABLE_PREFIX, kernelMigrations);
    this.outboxService = new Outbox(opened.knex, KERNEL_TABLE_PREFIX, this.events, this.logger.child({ component: 'outbox' }), this.instanceId, this.options.outbox);
    this.container.registerInstance(Tokens.Outbox, this.outboxService);
    const attempts = this.metricSet?.outboxAttempts;
    if (attempts) this.events.on('outbox.attempt', (o) => void attempts.labels(o.owner, o.next).inc());
    this.operatorService = new OutboxOperator(opened.knex, KERNEL_TABLE_PREFIX, this.outboxService);
    this.leaseService = new LeaseService(opened.knex, KERNEL_TABLE_PREFIX, this.instanceId);
    if (dialect.name === 'postgres' && this.options.cluster !== false) {
      this.bridge = new PgEventBridge(opened.knex, KERNEL_TABLE_PREFIX, this.events, this.instanceId, this.logger.child({ component: 'cluster' }));
      // Changes made while preparing, or by CLI commands that never start, reach the running instances.
      this.bridge.sendOnly();
    }
    for (const record of this.ordered) {
      record.context = this.createContext(record, opened.knex, dialect);
      try {
        await runMigrations(opened.knex, record.context.tablePrefix, record.descriptor.migrations ?? []);
        if (record.descriptor.init) await record.descriptor.init(record.context);
      } catch (err) {
        record.initialized = true; // its cleanups must run
        throw this.startupError(record, err);
      }
      record.initialized = true;
    }
    this.dispatcher.compile();
  }

  private checkDescriptor(d: PluginDescriptor<any>): void {
    if (!d || typeof d !== 'object' || typeof d.id !== 'string' || !PLUGIN_ID.test(d.id) || RESERVED_IDS.has(d.id)) {
      throw new SwitchboardError(ErrorCodes.INVALID_PLUGIN, `Invalid plugin id '${String(d?.id)}': use lower-case letters, digits, '-' and '_'`);
    }
    if (typeof d.version !== 'string' || d.version === '') {
      throw new SwitchboardError(ErrorCodes.INVALID_PLUGIN, `Plugin '${d.id}' has no version`, { pluginId: d.id });
    }
  }

  private startupError(record: PluginRecord, err: unknown): SwitchboardError {
    const id = record.descriptor.id;
    const message = err instanceof Error ? err.message : String(err);
    this.logger.error({ err, plugin: id }, `Plugin '${id}' startup failed`);
    return new SwitchboardError(ErrorCodes.PLUGIN_START, `Plugin '${id}' startup failed: ${message}`, { pluginId: id, cause: err });
  }

  private createContext(record: PluginRecord, knex: Knex, dialect: Dialect): PluginContext<unknown> {
    const id = record.descriptor.id;
    const tablePrefix = `${this.options.tablePrefix ?? ''}${id.replace(/-/g, '_')}_`;
    const logger = this.logger.child({ plugin: id });
    const child = this.container.createChildContainer();
    const ctx: PluginContext<unknown> = {
      id,
      version: record.descriptor.version,
      config: record.config,
      container: child,
      db: knex,
      reads: this.readsHandle ?? knex,
      dialect,
      tablePrefix,
      table: (name) => `${tablePrefix}${name}`,
      events: this.events,
      logger,
      routes: this.dispatcher.registrar(id, record.mount, logger),
      metrics: this.metricSet?.forPlugin(id) ?? new PluginMetrics(new Registry(), id),
      websockets: this.hub.registrar(id, record.mount),
      logs: this.logs,
      secrets: this.secrets,
      identity: this.options.identity,
      outbox: this.outboxService!.forOwner(id),
      leases: this.leaseService!,
      clustered: this.bridge !== undefined,
      mode: this.mode,
      instanceId: this.instanceId,
      signal: this.abort.signal,
      provide: (token, value) => {
        this.container.registerInstance(token, value);
      },
      onStop: (fn) => {
        record.cleanups.push(fn);
      },
    };
    child.registerInstance(Tokens.Config, record.config);
    child.registerInstance(Tokens.Context, ctx);
    child.registerInstance(Tokens.Logger, logger);
    return ctx;
  }

  /**
   * Stops the kernel. Safe to call any number of times and in any state; concurrent calls
   * share one stop.
   */
  stop(): Promise<void> {
    if (this.current === 'stopped' || this.current === 'failed') return Promise.resolve();
    if (this.current === 'created') {
      this.current = 'stopped';
      return Promise.resolve();
    }
    this.stopPromise ??= this.stopSteps();
    return this.stopPromise;
  }

  private async stopSteps(): Promise<void> {
    // A start still in progress finishes (or fails) first; then we stop what it started.
    if (this.current === 'starting' && this.startPromise) await this.startPromise.catch(() => undefined);
    if (this.current === 'failed' || this.current === 'stopped') return;
    const deadline = Date.now() + (this.options.stopTimeoutMs ?? 5000);
    const remaining = () => Math.max(0, deadline - Date.now());
    this.current = 'stopping';
    this.events.emit('kernel.stopping', { at: new Date() });
    this.abort.abort();
    const drained = await this.dispatcher.drain(remaining());
    if (!drained) this.logger.warn({ active: this.dispatcher.activeRequests }, 'stopping with requests still in flight');
    await this.outboxService?.stopWorker(remaining());
    await this.teardown(remaining);
    this.current = 'stopped';
  }

  /** Undoes a failed start: stops what started, cleans up what initialized, closes the database. */
  private async rollback(): Promise<void> {
    this.abort.abort();
    await this.outboxService?.stopWorker(1000);
    await this.teardown(() => this.options.stopTimeoutMs ?? 5000);
    this.current = 'failed';
  }

  private async teardown(remaining: () => number): Promise<void> {
    for (const record of [...this.ordered].reverse()) {
      if (record.started && record.descriptor.stop) {
        await this.withDeadline(`stop hook of '${record.descriptor.id}'`, () => record.descriptor.stop!(record.context!), remaining());
      }
      record.started = false;
      if (record.initialized) {
        for (const fn of record.cleanups.reverse()) {
          await this.withDeadline(`cleanup of '${record.descriptor.id}'`, fn, remaining());
        }
        record.cleanups = [];
        record.initialized = false;
      }
    }
    await this.hub.closeAll(Math.min(1000, remaining()));
    await this.bridge?.stop();
    this.events.clear();
    if (this.knexHandle && this.ownsDatabase) {
      const reads = this.readsHandle !== this.knexHandle ? this.readsHandle : undefined;
      try {
        await this.knexHandle.destroy();
      } finally {
        await reads?.destroy();
      }
    }
  }

  private async withDeadline(what: string, fn: () => void | Promise<void>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            this.logger.warn(`${what} did not finish in time; continuing`);
            resolve();
          }, Math.max(ms, 10));
          timer.unref();
        }),
      ]);
    } catch (err) {
      this.logger.error({ err }, `${what} failed`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Creates a kernel; the same as `new Kernel(options)`. */
export function createKernel(options: KernelOptions): Kernel {
  return new Kernel(options);
}
