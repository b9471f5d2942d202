/**
 * CORS as opsdroid's web server does it (aiohttp-middlewares' `cors_middleware`): headers
 * only when the request has an `Origin`; a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) is answered 200 with an empty body. Credentials are never
 * allowed cross-origin, and `*` is sent as `*`, never as the caller's origin.
 */
import type { RequestHook } from '../../src/index.js';
import type { OpsdroidConfig } from './config.js';

/** aiohttp-middlewares' default allowed headers. */
const DEFAULT_ALLOW_HEADERS = ['accept', 'accept-encoding', 'authorization', 'content-type', 'dnt', 'origin', 'user-agent', 'x-csrftoken', 'x-requested-with'];
/** The headers opsdroid adds to them. */
const OPSDROID_HEADERS = ['Host', 'Content-Type', 'Origin', 'Content-Length', 'Connection', 'Accept', 'User-Agent', 'Referer', 'Accept-Language', 'Accept-Encoding', 'Authorization'];
/** The methods a preflight is told about. */
export const CORS_ALLOW_METHODS = 'DELETE, GET, OPTIONS, PATCH, POST, PUT';

/** The CORS hook for the `web.cors` settings. */
export function corsHook(cors: OpsdroidConfig['web']['cors']): RequestHook {
  const allowAll = cors['allow-all'];
  const origins = new Set(cors.origins);
  const allowHeaders = [...DEFAULT_ALLOW_HEADERS, ...OPSDROID_HEADERS, ...cors['allow-headers']].join(', ');
  return (req, res) => {
    const isOptions = req.method === 'OPTIONS';
    const preflight = isOptions && req.headers['access-control-request-method'] !== undefined;
    const origin = req.headers.origin;
    if (origin) {
      let allowed = true;
      // `*` means `*`: an arbitrary origin is never reflected, and credentials are never
      // allowed (no `Access-Control-Allow-Credentials`); only a listed origin is echoed.
      if (allowAll || origins.has('*')) res.setHeader('Access-Control-Allow-Origin', '*');
      else if (origins.has(origin)) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.append('Vary', 'Origin');
      } else allowed = false;
      if (allowed && isOptions) {
        res.setHeader('Access-Control-Allow-Headers', allowHeaders);
        res.setHeader('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
      }
    }
    if (preflight) res.status(200).end();
  };
}
