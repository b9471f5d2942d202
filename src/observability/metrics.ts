/**
 * Prometheus metrics (prom-client) in a registry of the kernel's own: never prom-client's
 * global registry, so a host's metrics are not mixed in unless the host passes its
 * registry. The kernel's metrics are listed in docs/operations.md ("Metrics").
 *
 * The per-request cost is kept to a child counter and a histogram observation resolved
 * once per route, method and status ({@link RouteMetrics}); everything else (plugins up,
 * websockets, the outbox's backlog) is sampled when the registry is scraped.
 */
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { METRIC_PREFIX } from './metrics-prefix.js';
import { PluginMetrics } from './plugin-metrics.js';

/** Metrics settings of the kernel (`KernelOptions.metrics`). */
export interface MetricsOptions {
  /**
   * The registry to register into (default: a fresh one of the kernel's own). A host that
   * wants Switchboard's metrics beside its own passes its registry here.
   */
  registry?: Registry;
  /** Collect Node's default process metrics into the registry (default true; skipped when it has them already). */
  defaultMetrics?: boolean;
}

/** Latency buckets of `switchboard_http_request_duration_seconds`, in seconds. */
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the kernel samples at scrape time. */
export interface MetricSources {
  /** Each plugin's id and whether it is serving. */
  plugins(): ReadonlyArray<{
    /** The plugin's id. */
    id: string;
    /** Whether it has started and the kernel is serving. */
    up: boolean;
  }>;
  /** Open websockets by plugin. */
  websockets(): ReadonlyMap<string, number>;
  /** The outbox's backlog, when the database is open. */
  outbox(): Promise<OutboxBacklog | undefined>;
}

/** The outbox's unfinished and dead deliveries by owner, sampled from the database. */
export interface OutboxBacklog {
  /** Counts by owner and state. */
  counts: ReadonlyMap<
    string,
    {
      /** Not yet failed. */
      pending: number;
      /** Failed at least once, to be tried again. */
      retrying: number;
      /** Out of attempts or age. */
      dead: number;
    }
  >;
  /** The enqueue time (ms since the epoch) of each owner's oldest unfinished delivery. */
  oldest: ReadonlyMap<string, number>;
}

interface MethodMetrics {
  readonly duration: { observe(value: number): void };
  readonly byStatus: Map<number, { inc(value?: number): void }>;
}

/** The request metrics of one route, resolved once: the per-request work is one `observe` and one `inc`. */
export class RouteMetrics {
  private readonly byMethod = new Map<string, MethodMetrics>();

  /**
   * @param metrics - the kernel's metrics
   * @param plugin - the plugin's id
   * @param route - the route template (the full path as declared, never a raw path)
   */
  constructor(
    private readonly metrics: KernelMetrics,
    private readonly plugin: string,
    private readonly route: string,
  ) {}

  /** Counts one finished request and observes its duration. */
  observe(method: string, status: number, seconds: number): void {
    let m = this.byMethod.get(method);
    if (!m) {
      m = { duration: this.metrics.httpDuration.labels(this.plugin, method, this.route), byStatus: new Map() };
      this.byMethod.set(method, m);
    }
    m.duration.observe(seconds);
    let counter = m.byStatus.get(status);
    if (!counter) {
      counter = this.metrics.httpRequests.labels(this.plugin, method, this.route, String(status));
      m.byStatus.set(status, counter);
    }
    counter.inc();
  }
}

/** The kernel's metrics and their registry. */
export class KernelMetrics {
  /** The registry every Switchboard metric is in. */
  readonly registry: Registry;
  /** `switchboard_http_requests_total{plugin,method,route,status}` */
  readonly httpRequests: Counter<'plugin' | 'method' | 'route' | 'status'>;
  /** `switchboard_http_request_duration_seconds{plugin,method,route}` */
  readonly httpDuration: Histogram<'plugin' | 'method' | 'route'>;
  /** `switchboard_outbox_attempts_total{owner,outcome}` (outcome: delivered, retry, dead). */
  readonly outboxAttempts: Counter<'owner' | 'outcome'>;

  /**
   * @param options - see {@link MetricsOptions}
   * @param sources - what is sampled at scrape time
   * @param logger - for sampling failures (a scrape still answers without the failed part)
   */
  constructor(
    options: MetricsOptions,
    sources: MetricSources,
    private readonly logger: Logger,
  ) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics !== false && !this.registry.getSingleMetric('process_cpu_user_seconds_total')) {
      collectDefaultMetrics({ register: this.registry });
    }
    this.httpRequests = new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'Requests served by plugin routes, by plugin, method, route template and status.',
      labelNames: ['plugin', 'method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'Time from a plugin route matching to its response closing, by plugin, method and route template.',
      labelNames: ['plugin', 'method', 'route'],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    new Gauge({
      name: `${METRIC_PREFIX}plugin_up`,
      help: '1 when the plugin has started and the kernel is serving, else 0.',
      labelNames: ['plugin'],
      registers,
      collect() {
        this.reset();
        for (const p of sources.plugins()) this.set({ plugin: p.id }, p.up ? 1 : 0);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}websocket_connections`,
      help: 'Open websocket connections, by plugin.',
      labelNames: ['plugin'],
      registers,
      collect() {
        this.reset();
        for (const p of sources.plugins()) this.set({ plugin: p.id }, sources.websockets().get(p.id) ?? 0);
      },
    });
    this.outboxAttempts = new Counter({
      name: `${METRIC_PREFIX}outbox_attempts_total`,
      help: 'Outbound delivery attempts made by this instance, by owner and outcome (delivered, retry, dead).',
      labelNames: ['owner', 'outcome'],
      registers,
    });
    // One database query per scrape feeds both outbox gauges.
    let backlog: Promise<OutboxBacklog | undefined> | undefined;
    const sample = () =>
      (backlog ??= sources
        .outbox()
        .catch((err: unknown) => {
          logger.warn({ err }, 'metrics: the outbox backlog could not be read');
          return undefined;
        })
        .finally(() => setImmediate(() => (backlog = undefined))));
    new Gauge({
      name: `${METRIC_PREFIX}outbox_deliveries`,
      help: 'Outbox deliveries by owner and state: pending (not yet failed), retrying (failed at least once), dead. Read from the shared table.',
      labelNames: ['owner', 'state'],
      registers,
      async collect() {
        const b = await sample();
        this.reset();
        if (!b) return;
        for (const [owner, c] of b.counts) {
          this.set({ owner, state: 'pending' }, c.pending);
          this.set({ owner, state: 'retrying' }, c.retrying);
          this.set({ owner, state: 'dead' }, c.dead);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}outbox_oldest_pending_seconds`,
      help: 'Age of the oldest delivery not yet delivered nor dead, by owner (0 when none).',
      labelNames: ['owner'],
      registers,
      async collect() {
        const b = await sample();
        this.reset();
        if (!b) return;
        const now = Date.now();
        for (const owner of b.counts.keys()) {
          const oldest = b.oldest.get(owner);
          this.set({ owner }, oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000));
        }
      },
    });
  }

  /** The request metrics of one route. */
  route(plugin: string, route: string): RouteMetrics {
    return new RouteMetrics(this, plugin, route);
  }

  /** The metric factories a plugin gets as `ctx.metrics`. */
  forPlugin(pluginId: string): PluginMetrics {
    return new PluginMetrics(this.registry, pluginId, this.logger.child({ plugin: pluginId }));
  }

  /** The registry in Prometheus' text format. */
  async text(): Promise<{
    /** The Content-Type of Prometheus' text format. */
    contentType: string;
    /** The scrape. */
    body: string;
  }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** An Express handler answering with the registry in Prometheus' text format. */
  handler(): RequestHandler {
    return (_req, res, next) => {
      this.text().then(({ contentType, body }) => {
        res.setHeader('Content-Type', contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(body);
      }, next);
    };
  }
}
