/**
 * Embedding Switchboard in an existing Express app.
 *
 * The host has its own users, its own session tokens and its own auth middleware, its own
 * routes and its own 404 handler. It mounts two Switchboard families under `/integrations`:
 * Nextcloud Talk (whose users are the host's users, through the identity resolver) and
 * redball (with its own API keys). Everything the plugins do not serve stays the host's.
 *
 * Run it: `node dist/examples/embed/app.js` after `npm run build`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Kernel, expressServerOptions, safeEqual, type DatabaseOption, type Principal } from '../../src/index.js';
import { redballPlugin } from '../../plugins/redball/index.js';
import { talkPlugin } from '../../plugins/talk/index.js';
import { isMainModule } from '../standalone/is-main.js';

/** A user of the host application. */
export interface HostUser {
  /** The user's id. */
  id: string;
  /** The name shown to others. */
  name: string;
  /** Whether the user administers the host (and so Talk's bots). */
  isAdmin: boolean;
}

/** The host's request, once its auth middleware has run. */
type AuthedRequest = Request & { user?: HostUser };

/** Options of {@link createEmbeddedApp}. */
export interface EmbeddedAppOptions {
  /** The database Switchboard shares (a URL, a Knex config, or the host's own Knex instance). */
  database: DatabaseOption;
  /** The host's session tokens → users. */
  sessions: Record<string, HostUser>;
  /** API keys for redball clients. */
  redballApiKeys: string[];
}

/** The host app with Switchboard mounted, not yet listening. */
export interface EmbeddedApp {
  /** The host's Express app. */
  app: express.Express;
  /** The Switchboard kernel mounted on it. */
  kernel: Kernel;
  /** Starts the kernel and listens; resolves to the URL. */
  listen(port?: number): Promise<string>;
  /** Stops the kernel and the server. */
  close(): Promise<void>;
}

/** Builds the host app of this example. */
export function createEmbeddedApp(options: EmbeddedAppOptions): EmbeddedApp {
  const app = express();
  app.disable('x-powered-by');

  // The host's own auth middleware: `Authorization: Bearer <session>` → req.user.
  app.use((req: AuthedRequest, _res: Response, next: NextFunction) => {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    if (m) {
      for (const [token, user] of Object.entries(options.sessions)) if (safeEqual(m[1], token)) req.user = user;
    }
    next();
  });

  // The host's own routes.
  app.get('/api/me', (req: AuthedRequest, res) => {
    if (!req.user) return void res.status(401).json({ error: 'log in first' });
    res.json({ id: req.user.id, name: req.user.name });
  });

  // Switchboard, under /integrations. Talk's users are the host's users.
  const kernel = new Kernel({
    app,
    database: options.database,
    logger: { level: 'warn' },
    identity: (req): Principal | null => {
      const user = (req as AuthedRequest).user;
      return user ? { id: user.id, displayName: user.name, admin: user.isAdmin } : null;
    },
    plugins: [
      { plugin: talkPlugin, mount: '/integrations' },
      { plugin: redballPlugin, mount: '/integrations', config: { apiKeys: options.redballApiKeys } },
    ],
  });

  // The host's own 404, after Switchboard: whatever the plugins do not serve ends here.
  app.use((_req, res) => void res.status(404).json({ error: 'no such page in this app' }));

  // Requests and responses built with the app's prototypes (Express would set them on each request).
  const server = http.createServer(expressServerOptions(app), app);
  kernel.attach(server);
  return {
    app,
    kernel,
    async listen(port = 0) {
      await kernel.start();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close() {
      await kernel.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (isMainModule(import.meta.url)) {
  const embedded = createEmbeddedApp({
    database: 'sqlite:./data/embed-example.db',
    sessions: { 'alice-session-token': { id: 'alice', name: 'Alice', isAdmin: true } },
    redballApiKeys: ['embed-example-redball-key'],
  });
  const url = await embedded.listen(3000);
  process.stdout.write(`Embedded example on ${url} — try: curl -H 'Authorization: Bearer alice-session-token' ${url}/api/me\n`);
  const stop = () => void embedded.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
