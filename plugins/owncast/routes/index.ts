/**
 * The wire contract of the plugin: the family's conventions (responder, validation errors,
 * 405 for unknown methods of a GET path), the CORS and preflight behaviour, the chat
 * websocket at `/entry`, and every route, by area.
 */
import type { Request, Response } from 'express';
import type { PluginContext } from '../../../src/index.js';
import type { Owncast } from '../owncast.js';
import type { OwncastConfig } from '../plugin-config.js';
import { normalizePath, owncastResponder, validationFailure } from '../wire.js';
import { adminConfigRoutes } from './admin-config.js';
import { adminRoutes } from './admin.js';
import { integrationRoutes } from './integrations.js';
import { RouteKit } from './kit.js';
import { publicRoutes } from './public.js';

const PUBLIC_CORS = new Set(['/api/status', '/api/config', '/api/chat']);
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
      owncast.hub.accept(socket, req);
    },
  });
  return kit;
}

/**
 * Runs before every request to one of the plugin's paths:
 * - admin paths get Owncast's CORS headers (the request's origin, with credentials) and
 *   answer OPTIONS with 200 before auth, as Owncast does;
 * - integration paths answer an OPTIONS preflight with 204 and `Access-Control-Allow-Origin: *`;
 * - `/api/status`, `/api/config` and `/api/chat` get `Access-Control-Allow-Origin: *`;
 * - a POST body is read as JSON whatever its Content-Type (Owncast decodes every body as
 *   JSON, so `curl -d '{"value": …}'` works).
 */
function requestHook(ctx: PluginContext<OwncastConfig>) {
  const prefix = normalizePath(ctx.routes.prefix);
  const origins = ctx.config.admin.corsOrigins;
  const anyOrigin = origins.includes('*');
  return (req: Request, res: Response): void => {
    let path = normalizePath(req.path);
    if (prefix && path.startsWith(prefix)) path = path.slice(prefix.length) || '/';
    if (path.startsWith('/api/admin/')) {
      const origin = req.headers.origin;
      if (typeof origin === 'string' && origin !== '' && (anyOrigin || origins.includes(origin))) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
        res.setHeader('Access-Control-Allow-Headers', ADMIN_ALLOW_HEADERS);
        res.vary('Origin');
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
      if (typeof type !== 'string' || !/^application\/(.+\+)?json\b/i.test(type)) req.headers['content-type'] = 'application/json';
    }
  };
}
