/**
 * The access log: one line per request through pino-http, with the request id, method, URL
 * (secret query values blanked), status and response time. Request headers are never
 * written, so `Authorization`, cookies and the families' token headers (Talk's and
 * opsdroid's) cannot reach it; the secret registry still scrubs every line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '../logger.js';

/** Query parameter names whose values are blanked in the access log (`apikey`, `token`, `secret`, …). */
export const SECRET_QUERY_KEY = /key|token|secret|pass|auth|sig|session|code/i;

/** A URL with the values of secret-looking query parameters replaced by `[REDACTED]`. */
export function redactRequestUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // an undecodable name is judged as it is
      }
      return eq >= 0 && SECRET_QUERY_KEY.test(name) ? `${rawName}=[REDACTED]` : pair;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  remoteAddress?: string;
}

/** The pino-http middleware writing the access log through `logger` (at info; 5xx at error). */
export function accessLog(logger: Logger): HttpLogger<IncomingMessage, ServerResponse> {
  return pinoHttp({
    logger,
    quietReqLogger: true,
    // The id is chosen before (withRequestContext); pino-http only reads it.
    genReqId: (req) => (req as IncomingMessage & { id?: string }).id ?? '',
    serializers: {
      req: (req: SerializedRequest) => ({ id: req.id, method: req.method, url: redactRequestUrl(String(req.url ?? '')), remoteAddress: req.remoteAddress }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
  });
}
