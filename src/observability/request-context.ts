/**
 * Request ids: each request takes `X-Request-Id` from the client when it is well-formed, or
 * gets a fresh one; the id is echoed on the response and carried through
 * `AsyncLocalStorage`, so every log line written while serving the request carries it
 * (the kernel's logger reads it in its `mixin`), plugin lines included.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The header a request id travels in, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What a client-given request id must look like to be kept (anything else is replaced). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** What is known about the request being served, for code running on its behalf. */
export interface RequestContext {
  /** The request id (the client's when well-formed, else a fresh UUID). */
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext & { readonly req: IncomingMessage }>();

/** The request being served by the current asynchronous context, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** The id of the request being served by the current asynchronous context, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** The client's id when well-formed, else a fresh UUID. */
export function requestIdFor(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : crypto.randomUUID();
}

/**
 * Runs `next` for a request inside its request context: the id is chosen (see
 * {@link requestIdFor}), set on the request as `req.id` (where pino-http looks) and echoed
 * as `X-Request-Id`. A request already inside its context (the middleware mounted twice)
 * keeps it.
 */
export function withRequestContext(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  if (storage.getStore()?.req === req) return next();
  const requestId = requestIdFor(req.headers[REQUEST_ID_HEADER]);
  (req as IncomingMessage & { id?: string }).id = requestId;
  if (!res.headersSent) res.setHeader('X-Request-Id', requestId);
  storage.run({ requestId, req }, next);
}
