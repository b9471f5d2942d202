/**
 * The standalone server: an Express app with every enabled bundled plugin, the merged
 * OpenAPI document at `/openapi.json`, health endpoints, and a graceful stop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { Kernel, SwitchboardError, ErrorCodes, type PluginDescriptor, type PluginEntry, type LoggerOptions, type Logger } from '../../src/index.js';
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
  /** Listens, then starts the kernel; resolves to the URL it serves on. */
  start(): Promise<string>;
  /** Stops gracefully: no new connections, in-flight requests drained, kernel stopped. Idempotent. */
  stop(): Promise<void>;
}

/** The plugin entries the config enables, each with its mount and config. */
export function enabledPlugins(config: StandaloneConfig, available: readonly PluginDescriptor<any>[]): PluginEntry<any>[] {
  const known = new Set(available.map((p) => p.id));
  for (const id of Object.keys(config.plugins)) {
    if (!known.has(id)) {
      throw new SwitchboardError(ErrorCodes.INVALID_CONFIG, `Invalid config for switchboard: unknown key 'plugins.${id}' (known plugins: ${[...known].join(', ') || 'none'})`);
    }
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
  const server = http.createServer(app);
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
    stopTimeoutMs: options.stopTimeoutMs ?? 1500,
    version: VERSION,
  });
  for (const user of config.users) kernel.secrets.add(user.password);
  const dbPassword = /^postgres(ql)?:\/\/[^:/]+:([^@]+)@/.exec(config.database.url)?.[2];
  if (dbPassword) kernel.secrets.add(decodeURIComponent(dbPassword));
  kernel.attach(server);

  app.get('/openapi.json', (_req, res) => {
    res.json(kernel.openapi({ title: 'Switchboard', description: `Plugins: ${entries.map((e) => e.plugin.id).join(', ')}` }));
  });
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    const ready = kernel.state === 'running';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : kernel.state });
  });

  let stopping: Promise<void> | undefined;
  return {
    app,
    kernel,
    server,
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.server.port, config.server.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      try {
        await kernel.start();
      } catch (err) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        throw err;
      }
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      return `http://${host}:${port}`;
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
