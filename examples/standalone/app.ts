/**
 * The standalone server: an Express app with every enabled bundled plugin, the merged
 * OpenAPI document at `/openapi.json` (browsable at `/docs`), health endpoints, and a graceful stop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { Kernel, SwitchboardError, ErrorCodes, SAME_SERVER, apiReference, expressServerOptions, parseBearer, safeEqual, type PluginDescriptor, type PluginEntry, type LoggerOptions, type Logger } from '../../src/index.js';
import type { StandaloneConfig } from './config.js';
import { usersIdentity } from './identity.js';
import { bundledPlugins } from './plugins.js';

/** The package version, reported by `/openapi.json`. */
export const VERSION = '0.1.0';

/** Options of {@link createStandalone}. */
export interface StandaloneOptions {
  /** The plugins available (default: every bundled plugin). */
  plugins?: readonly PluginDescriptor<any>[];
  /** Logger options (default: the config's level, to stdout). */
  logger?: Logger | LoggerOptions;
  /** How long a graceful stop may take (default 1500 ms, so SIGTERM exits within 2 s). */
  stopTimeoutMs?: number;
}

/** A standalone server, not yet listening. */
export interface Standalone {
  /** The Express app. */
  app: Express;
  /** The kernel. */
  kernel: Kernel;
  /** The HTTP server. */
  server: http.Server;
  /**
   * Starts the kernel (every plugin), then listens; resolves to the URL it serves on. The
   * server accepts no connection before every plugin has started, so no client ever sees
   * a half-started server.
   */
  start(): Promise<string>;
  /** Stops gracefully: no new connections, in-flight requests drained, kernel stopped. Idempotent. */
  stop(): Promise<void>;
}

/** The plugin entries the config enables, each with its mount and config. */
export function enabledPlugins(config: StandaloneConfig, available: readonly PluginDescriptor<any>[]): PluginEntry<any>[] {
  const known = new Set(available.map((p) => p.id));
  const unknown = Object.keys(config.plugins).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    const list = [...known].join(', ') || 'none';
    throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, unknown.map((id) => `plugins.${id}: unknown plugin (known: ${list})`).join('\n'));
  }
  return available
    .filter((p) => config.plugins[p.id]?.enabled !== false)
    .map((plugin) => {
      const { enabled: _enabled, mount, ...pluginConfig } = (config.plugins[plugin.id] ?? {}) as { enabled?: boolean; mount?: string } & Record<string, unknown>;
      return { plugin, mount, config: pluginConfig };
    });
}

/** Builds the standalone server from a validated configuration. */
export function createStandalone(config: StandaloneConfig, options: StandaloneOptions = {}): Standalone {
  const app = express();
  app.disable('x-powered-by');
  // No ETags: none of the families' clients revalidate with them, and hashing every answer
  // (an 18 kB bot list, a chat history) costs throughput on every request.
  app.set('etag', false);
  // Security headers (helmet, the well-kept standard for Express). Every answer here is an
  // API answer, so the strictest content policy applies; cross-origin resource policy is
  // left off because Owncast and opsdroid are called cross-origin by design (their CORS
  // rules are the families' own).
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: false,
      crossOriginEmbedderPolicy: false,
    }),
  );
  // Requests and responses built with the app's prototypes: Express sets them on every
  // request, and a changed prototype costs every request CPU and garbage collection.
  const server = http.createServer(expressServerOptions(app), app);
  // Slow or idle clients cannot hold connections forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const available = options.plugins ?? bundledPlugins;
  const entries = enabledPlugins(config, available);
  const kernel = new Kernel({
    app,
    database: config.database.url,
    logger: options.logger ?? { level: config.log.level },
    plugins: entries,
    identity: usersIdentity(config.users),
    outbox: config.webhooks,
    admin: config.admin,
    stopTimeoutMs: options.stopTimeoutMs ?? 1500,
    version: VERSION,
    accessLog: config.log.access,
  });
  for (const user of config.users) kernel.secrets.add(user.password);
  const metricsToken = config.metrics.token;
  if (metricsToken) kernel.secrets.add(metricsToken);
  const dbPassword = /^postgres(ql)?:\/\/[^:/]+:([^@]+)@/.exec(config.database.url)?.[2];
  if (dbPassword) kernel.secrets.add(decodeURIComponent(dbPassword));
  kernel.attach(server);

  const openapi = { title: 'Switchboard', description: `Plugins: ${entries.map((e) => e.plugin.id).join(', ')}` };
  app.get('/openapi.json', (_req, res) => {
    res.json(kernel.openapi({ ...openapi, servers: servers() }));
  });
  // The same document, browsable (Swagger UI, its assets from node_modules).
  app.use('/docs', apiReference(kernel, { openapi }));
  // Prometheus metrics, behind `metrics.token` (Bearer, compared in constant time) when set.
  const metrics = kernel.metrics();
  app.get('/metrics', (req, res, next) => {
    if (metricsToken && !safeEqual(parseBearer(req.headers.authorization) ?? '', metricsToken)) {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').json({ error: 'Unauthorized' });
      return;
    }
    metrics(req, res, next);
  });
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    const ready = kernel.state === 'running';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : kernel.state });
  });

  // `/` first (what a browser at any address, or behind a proxy, can call), then where this
  // server listens when that is one address (not 0.0.0.0 or ::).
  let listening: string | undefined;
  const servers = () => [{ ...SAME_SERVER }, ...(listening ? [{ url: listening, description: 'Where this server listens' }] : [])];

  let stopping: Promise<void> | undefined;
  return {
    app,
    kernel,
    server,
    async start() {
      // Registered last, after every route (the kernel's, this file's, any added to `app`
      // before start), so they only see what nothing else answered.
      app.use(notFound);
      app.use(errorAnswer);
      await kernel.start();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(config.server.port, config.server.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        await kernel.stop();
        throw err;
      }
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      const url = `http://${host}:${port}`;
      if (address !== '0.0.0.0' && address !== '::') listening = url;
      return url;
    },
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await kernel.stop();
        server.closeAllConnections();
        await closed;
      })();
      return stopping;
    },
  };
}

/** A path no plugin and no server route answers: a JSON 404, never Express's HTML page. */
const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'Not Found' });
};

/**
 * An error no plugin answered (a malformed URL outside every plugin, say): its status and
 * the standard reason phrase as JSON, never Express's HTML page, the exception's text or a stack.
 */
const errorAnswer: ErrorRequestHandler = (err: { status?: unknown; statusCode?: unknown }, _req, res, next) => {
  if (res.headersSent) return next(err);
  const given = Number(err?.status ?? err?.statusCode);
  const status = Number.isInteger(given) && given >= 400 && given <= 599 ? given : 500;
  res.status(status).json({ error: http.STATUS_CODES[status] ?? 'Error' });
};
