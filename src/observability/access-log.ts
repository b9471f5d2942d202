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

/** The URL pino's request serializer reports: Express's `originalUrl`, else the path, else the URL. */
function serializedUrl(req: IncomingMessage & { originalUrl?: string; path?: unknown }): string | undefined {
  if (req.originalUrl) return req.originalUrl;
  const path = req.path;
  return typeof path === 'string' ? path : req.url;
}

/**
 * The access log through `logger` (at info; 5xx at error), written by pino-http.
 *
 * pino-http builds two child loggers per request, serializing the request, before it knows
 * whether a line will be written. While `logger` drops info lines (the output at `warn`), only
 * a 5xx line can be written, so the request is not serialized unless it ends in one: the
 * same line, built by the same logger, at the end (about a tenth of a read request's CPU).
 */
export function accessLog(logger: Logger): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const full = fullAccessLog(logger);
  return (req, res, next) => {
    if (logger.isLevelEnabled('info')) return full(req, res, next);
    const r = req as IncomingMessage & { id?: string; originalUrl?: string; path?: unknown };
    // As pino-http: the id is the one chosen before (withRequestContext), read at the start.
    const reqId = r.id || '';
    r.id = reqId;
    const started = Date.now();
    const method = r.method;
    const url = serializedUrl(r);
    const remoteAddress = r.socket?.remoteAddress;
    const done = (err?: unknown) => {
      res.removeListener('close', done);
      res.removeListener('finish', done);
      res.removeListener('error', done);
      if (!(err || res.statusCode >= 500) || !logger.isLevelEnabled('error')) return;
      const error = err || (res as ServerResponse & { err?: unknown }).err || new Error(`failed with status code ${res.statusCode}`);
      logger
        .child({ reqId })
        .child({ req: { id: reqId || undefined, method, url: redactRequestUrl(String(url ?? '')), remoteAddress } })
        .error({ res: { statusCode: res.headersSent ? res.statusCode : null }, err: error, responseTime: Date.now() - started }, 'request errored');
    };
    res.on('close', done);
    res.on('finish', done);
    res.on('error', done);
    next();
  };
}

/** The pino-http middleware writing the access log through `logger` (at info; 5xx at error). */
function fullAccessLog(logger: Logger): HttpLogger<IncomingMessage, ServerResponse> {
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
