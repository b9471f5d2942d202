/**
 * The access log: one line per request through pino-http, with the request id, method, URL
 * (query values blanked), status and response time. Request headers are never
 * written, so `Authorization`, cookies and the families' token headers (Talk's and
 * opsdroid's) cannot reach it; the secret registry still scrubs every line.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { Logger } from '../logger.js';

/**
 * The URL with the value of every query parameter replaced by `[REDACTED]`; the names stay.
 * Every value, not only those whose names look secret: a value's meaning is the route's
 * (redball's `POST …/config?key=password&val=…` carries a setting's value in `val`).
 */
export function redactRequestUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=[REDACTED]`;
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
