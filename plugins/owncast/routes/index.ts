/**
 * The wire contract of the plugin: the family's conventions (responder, validation errors,
 * 405 for unknown methods of a GET path), the CORS and preflight behaviour, the chat
 * websocket at `/entry`, and every route, by area.
 */
import type { Request, Response } from 'express';
import { HttpError, type PluginContext } from '../../../src/index.js';
import type { Owncast } from '../owncast.js';
import type { OwncastConfig } from '../plugin-config.js';
import { normalizePath, owncastResponder, validationFailure } from '../wire.js';
import { adminConfigRoutes } from './admin-config.js';
import { adminRoutes } from './admin.js';
import { integrationRoutes } from './integrations.js';
import { RouteKit } from './kit.js';
import { publicRoutes } from './public.js';

/** The public read endpoints that send `Access-Control-Allow-Origin: *`, as Owncast. */
const PUBLIC_CORS = new Set(['/api/status', '/api/config', '/api/chat', '/api/socialplatforms']);
const ADMIN_ALLOW_HEADERS = 'Origin, X-Requested-With, Content-Type, Accept, Authorization';

/** Declares the routes, hooks and websocket of the plugin. */
export function registerRoutes(ctx: PluginContext<OwncastConfig>, owncast: Owncast): RouteKit {
  const kit = new RouteKit(ctx, owncast);
  ctx.routes.defaults({ responder: owncastResponder(kit.basicPaths), methodNotAllowed: true, onValidationError: validationFailure });
  ctx.routes.onRequest(requestHook(ctx));

  publicRoutes(kit);
  adminRoutes(kit);
  adminConfigRoutes(kit);
  integrationRoutes(kit);

  ctx.websockets.add({
    path: '/entry',
    verify: () => (owncast.hub.hasRoom() ? undefined : { status: 503, body: 'too many chat connections' }),
    handler: (socket, req) => {
      owncast.welcome(owncast.hub.accept(socket, req));
    },
  });
  return kit;
}

/**
 * Runs before every request to one of the plugin's paths:
 * - admin paths get CORS headers and answer OPTIONS with 200 before auth, as Owncast does.
 *   Owncast reflects any origin together with `Access-Control-Allow-Credentials: true`,
 *   which lets any web page use the admin's Basic credentials; here an origin listed in
 *   `admin.corsOrigins` is reflected with credentials, and `*` means `*`, without them;
 * - integration paths answer an OPTIONS preflight with 204 and `Access-Control-Allow-Origin: *`;
 * - the public read endpoints get `Access-Control-Allow-Origin: *`;
 * - a body that is not declared as JSON is read as JSON (Owncast decodes every body as JSON,
 *   and its clients send no or a wrong Content-Type: `curl -d '{"value": …}'`) only when the
 *   request comes from no browser page (no `Origin`), from the server's own origin, or from
 *   an origin listed in `admin.corsOrigins`. From any other page, a state-changing request
 *   that is not JSON is refused with 415 before auth: a browser sends such a request without
 *   asking (no preflight), with the admin's credentials, so reading it would allow
 *   cross-site request forgery. A JSON one needs a preflight, which such a page fails.
 */
function requestHook(ctx: PluginContext<OwncastConfig>) {
  const prefix = normalizePath(ctx.routes.prefix);
  const listed = new Set(ctx.config.admin.corsOrigins.filter((o) => o !== '*' && o !== 'null'));
  const anyOrigin = ctx.config.admin.corsOrigins.includes('*');
  return (req: Request, res: Response): void => {
    let path = normalizePath(req.path);
    if (prefix && path.startsWith(prefix)) path = path.slice(prefix.length) || '/';
    const origin = typeof req.headers.origin === 'string' && req.headers.origin !== '' ? req.headers.origin : undefined;
    if (path.startsWith('/api/admin/')) {
      if (origin !== undefined && listed.has(origin)) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
        res.setHeader('Access-Control-Allow-Headers', ADMIN_ALLOW_HEADERS);
        res.vary('Origin');
      } else if (origin !== undefined && anyOrigin) {
        res.setHeader('Access-Control-Allow-Origin', '*');
        res.setHeader('Access-Control-Allow-Headers', ADMIN_ALLOW_HEADERS);
      }
      if (req.method === 'OPTIONS') {
        res.status(200).end();
        return;
      }
    } else if (path.startsWith('/api/integrations/')) {
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Origin', '*');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.status(204).end();
        return;
      }
    } else if (PUBLIC_CORS.has(path)) {
      res.setHeader('Access-Control-Allow-Origin', '*');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') {
      const type = req.headers['content-type'];
      if (typeof type === 'string' && JSON_TYPE.test(type)) return;
      if (origin !== undefined && !listed.has(origin) && !isSameOrigin(origin, req)) {
        throw new HttpError(415, 'a request from another origin must send its body as application/json');
      }
      req.headers['content-type'] = 'application/json';
    }
  };
}

/** A JSON media type: `application/json`, `application/merge-patch+json`, …. */
const JSON_TYPE = /^application\/(.+\+)?json\b/i;

/** True when `origin` is the origin the request was sent to (the page is the server's own). */
function isSameOrigin(origin: string, req: Request): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  // The host alone (with its port): behind a proxy that ends TLS the scheme seen here is
  // http. `req.host` honours X-Forwarded-Host when the host app trusts its proxy.
  return url.host !== '' && url.host === req.host;
}
